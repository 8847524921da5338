"""Alternatives worth cycling through: distinct up to whitespace, split where new text begins, ranked."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from transformers import AutoModelForCausalLM

from kvcomplete.completion.cache.session import Session
from kvcomplete.completion.config import Settings
from kvcomplete.completion.decoding.alternatives import (
    distinct,
    new_text,
    overlaps,
    rank,
    squeeze,
    starts,
    worth_showing,
)
from kvcomplete.completion.drafts.budget import SpeculationBudget
from kvcomplete.completion.drafts.copyspec import CopySpec
from kvcomplete.completion.drafts.ngram import NGramModel
from kvcomplete.completion.drafts.speculation import RequestDrafts
from kvcomplete.completion.drafts.superposed import SuperposedDrafter
from kvcomplete.completion.engine import Engine
from kvcomplete.completion.model.loading import load
from kvcomplete.completion.model.runner import ModelRunner
from kvcomplete.completion.prompt.builder import Prompt


@dataclass
class Candidate:
    text: str
    logprob: float = -1.0
    tokens: int = 1
    split_logprob: float = -1.0


def test_whitespace_never_makes_two_suggestions_different():
    assert squeeze("    return a *\tb\n") == "returna*b" and squeeze(b" x\n y") == b"xy"
    assert overlaps("    return a * b", "return a*b")
    assert overlaps("return", "    return a * b") and overlaps("return a * b", "  return")
    assert not overlaps("return a", "return b") and not overlaps("pass", "return")


def test_leading_whitespace_past_the_healed_bytes_is_no_new_text():
    healed = b"\n    "  # the newline and the indentation the editor inserted after "def f(a, b):"
    assert new_text(b"\n   ", healed) == b""  # still reproducing the indentation
    assert new_text(b"\n        ", healed) == b""  # indenting once more: no code yet
    assert new_text(b"\n        return", healed) == b"return"
    assert new_text(b"\n    \n    x", healed) == b"x"  # a blank line first
    assert new_text(b"print", b"pri") == b"nt"


def test_distinct_keeps_the_first_of_each_text_up_to_whitespace_and_prefixes():
    texts = ["return a", "  ", "    return a * b", "return  a", "pass", "", "if a:", "pa"]
    assert distinct(texts, 10) == [0, 4, 6]
    assert distinct(texts, 2) == [0, 4]
    assert distinct([b"re", b"return", b"if"], 3) == [0, 2]


def test_the_greedy_start_is_kept_even_when_it_adds_no_text():
    assert starts([b"", b"return", b"return a", b"pass"], 3) == [0, 1, 3]
    assert starts([b"return", b"   ", b"ret", b"if"], 3) == [0, 3]
    assert starts([b"return", b"if", b"pass"], 1) == [0]


def test_greedy_stays_first_and_the_others_are_ranked_by_their_score():
    greedy = Candidate("x = 1", logprob=-9.0, tokens=3)
    short = Candidate("y", logprob=-2.0, tokens=1, split_logprob=-2.0)  # mean -2
    long = Candidate("z = compute(x)", logprob=-3.0, tokens=6, split_logprob=-2.5)  # mean -0.5
    assert rank(greedy, [short, long], "total") == [short, long]
    assert rank(greedy, [short, long], "mean") == [long, short]
    assert rank(greedy, [short, long], "split") == [short, long]
    assert worth_showing([greedy, short, long], 3, "mean") == [greedy, long, short]


def test_an_alternative_sharing_the_first_line_of_suggestion_one_comes_after_those_that_differ_there():
    greedy = Candidate("if x:\n    return 1")
    same_line = Candidate("if  x:\n    return 2", logprob=-0.1)
    other = Candidate("while x:\n    x -= 1", logprob=-5.0)
    assert rank(greedy, [same_line, other], "total") == [other, same_line]


def test_shown_suggestions_are_never_equal_up_to_whitespace():
    candidates = [Candidate("return a"), Candidate("    return a"), Candidate(""), Candidate("return a + b"),
                  Candidate("pass")]
    assert [c.text for c in worth_showing(candidates, 4, "total")] == ["return a", "pass"]
    assert worth_showing([], 4) == []


@given(st.lists(st.text(alphabet="ab \n", max_size=6), max_size=8), st.integers(1, 5))
def test_no_two_kept_texts_overlap_and_nothing_droppable_is_missed(texts, limit):
    kept = distinct(texts, limit)
    assert len(kept) <= limit and kept == sorted(kept)
    assert all(not overlaps(texts[a], texts[b]) for a in kept for b in kept if a < b)
    assert all(squeeze(texts[index]) for index in kept)
    if len(kept) < limit:  # every text left out is blank or overlaps one kept before it
        for index, text in enumerate(texts):
            if index not in kept:
                assert not squeeze(text) or any(overlaps(text, texts[other]) for other in kept if other < index)


@pytest.mark.parametrize("ranking", ["total", "mean", "split"])
def test_every_ranking_keeps_suggestion_one_first(ranking):
    greedy = Candidate("a", logprob=-50.0, tokens=1, split_logprob=-50.0)
    others = [Candidate("b", logprob=-1.0), Candidate("c", logprob=-0.5)]
    assert worth_showing([greedy, *others], 3, ranking)[0] is greedy


def save_bigram_model(save_tiny_model, folder, tokenizer, table: dict[str, list[str]]):
    """A tiny Llama whose next token depends only on the last one: after the token ``t``, the tokens of
    ``table[t]`` are the most likely, in that order ("<eos>": the end of text); after any other token, and
    below those, every token is equally likely. The layer adds nothing (zero output projections), so the
    last token's embedding (a one-hot per row of ``table``) goes straight to the head."""
    save_tiny_model("llama", folder, tokenizer, num_hidden_layers=1)
    model = AutoModelForCausalLM.from_pretrained(folder)
    hidden = model.config.hidden_size
    assert len(table) <= hidden
    with torch.no_grad():
        for layer in model.model.layers:
            layer.self_attn.o_proj.weight.zero_()
            layer.mlp.down_proj.weight.zero_()
        model.model.embed_tokens.weight.zero_()
        model.lm_head.weight.zero_()
        for row, (before, after) in enumerate(table.items()):
            model.model.embed_tokens.weight[_token(tokenizer, before), row] = 1.0
            for rank, token in enumerate(after):  # RMSNorm scales the one-hot to sqrt(hidden)
                model.lm_head.weight[_token(tokenizer, token), row] = (30.0 - rank) / hidden ** 0.5
    model.save_pretrained(folder)
    return folder


def _token(tokenizer, piece: str) -> int:
    if piece == "<eos>":
        return tokenizer.eos_token_id
    ids = tokenizer(piece, add_special_tokens=False)["input_ids"]
    assert len(ids) == 1, (piece, ids)
    return ids[0]


AUTO_INDENTED = "def f(a, b):\n    "  # the editor's indentation after the colon; the cursor at its end
CONTENT = [" return", " pass", " if", " raise", " yield"]
EXTRA_INDENTATION_FIRST = {  # the extra-indentation token is the model's first choice at the line start
    "):": ["\n       ", "\n   ", "\n    ", "\n        "],
    **{indentation: CONTENT for indentation in ("\n       ", "\n   ", "\n    ", "\n        ")},
    **{word: [" a"] for word in (" return", " if", " raise", " yield")},
    " a": ["<eos>"], " pass": ["<eos>"],
}


@pytest.fixture(scope="module")
def extra_indentation_model(save_tiny_model, tmp_path_factory, tokenizer):
    return save_bigram_model(save_tiny_model, tmp_path_factory.mktemp("extra-indentation"), tokenizer,
                             EXTRA_INDENTATION_FIRST)


def test_hand_set_model_puts_extra_indentation_first(extra_indentation_model, vocab):
    assert [vocab.bytes_of[t] for t in vocab.encode(AUTO_INDENTED)[-2:]] == [b"):", b"\n    "]
    engine = Engine(Settings(model=str(extra_indentation_model), device="cpu", max_tokens=8))
    engine.open("file:///f.py", AUTO_INDENTED)
    texts = [s.text for s in engine.complete("file:///f.py", len(AUTO_INDENTED), k=1).suggestions]
    assert texts == ["    return a"]  # greedy: indented once more by the first token, then " return a"


def engine_suggestions(engine, text: str, k: int) -> list[str]:
    engine.open("file:///f.py", text)
    return [suggestion.text for suggestion in engine.complete("file:///f.py", len(text), k=k).suggestions]


@pytest.mark.parametrize("speculation", [False, True])
def test_alternatives_after_extra_indentation_start_with_other_code(extra_indentation_model, speculation):
    engine = Engine(Settings(model=str(extra_indentation_model), device="cpu", max_tokens=8, speculation=speculation))
    texts = engine_suggestions(engine, AUTO_INDENTED, 3)
    assert texts[0] == engine_suggestions(engine, AUTO_INDENTED, 1)[0] == "    return a"
    assert sorted(text.split()[0] for text in texts) == ["if", "pass", "return"]


def greedy_with_healing(model, vocab, tokens: list[int], healed: bytes, count: int) -> list[int]:
    """The reference: one full forward per token, the argmax among the tokens that agree with the healed
    bytes still to reproduce."""
    generated: list[int] = []
    for _ in range(count):
        with torch.no_grad():
            logits = model(torch.tensor([tokens + generated])).logits[0, -1]
        pending = healed[len(vocab.to_bytes(generated)):]
        allowed = vocab.compatible_with(pending) if pending else list(range(len(vocab)))
        generated.append(allowed[int(logits[allowed].argmax())])
    return generated


def test_suggestion_one_is_greedy_token_for_token_where_the_alternatives_split_later(tiny_model_dir, vocab,
                                                                                     decode_to_end):
    """At an auto-indented line start every allowed first token is whitespace, so the k branches share
    their first token(s) and split after them; #1 must still be plain greedy decoding with healing."""
    runner = ModelRunner(load(Settings(model=str(tiny_model_dir), device="cpu")))
    tokens = vocab.encode("import math\n\n\ndef area(radius):\n    ")
    prompt = Prompt(prefix_len=len(tokens) - 2, last_token=tokens[-2], last_position=len(tokens) - 2,
                    healed=vocab.bytes_of[tokens[-1]], context=tuple(tokens[:-1]))
    session = Session(runner, tokens[:-1])
    one = decode_to_end(runner, session.store, prompt, vocab, k=1, max_tokens=10)[0]
    three = decode_to_end(runner, session.store, prompt, vocab, k=3, max_tokens=10)[0]
    stock = AutoModelForCausalLM.from_pretrained(tiny_model_dir, attn_implementation="sdpa").eval()
    assert three[0].tokens == one[0].tokens == greedy_with_healing(stock, vocab, tokens[:-1], prompt.healed, 10)
    assert len(three) == 3 and len({branch.tokens[0] for branch in three}) == 1  # one shared first token
    texts = [vocab.to_bytes(branch.tokens)[len(prompt.healed):].lstrip() for branch in three]
    assert distinct(texts, 3) == [0, 1, 2]
    ngram, copy = NGramModel(), CopySpec()
    ngram.set_source("f", tokens)
    copy.set_source("f", tokens)
    drafting = RequestDrafts(copy, SuperposedDrafter(ngram, k=3), vocab, runner.embed, "f")
    drafted, stats = decode_to_end(runner, session.store, prompt, vocab, k=3, max_tokens=10, drafting=drafting,
                                   budget=SpeculationBudget(max_nodes=16, acceptance=0.9))
    assert [branch.tokens for branch in drafted] == [branch.tokens for branch in three]  # drafts change nothing
    assert stats.draft_tokens_proposed > 0


@pytest.mark.default_model
def test_default_model_alternatives_at_an_auto_indented_line_start_begin_with_other_code():
    engine = Engine(Settings(device="cpu", max_tokens=16))
    text = "def add(a, b):\n    return a + b\n\n\ndef f(a, b):\n    "
    texts = engine_suggestions(engine, text, 4)
    assert len(texts) == 4
    assert len({suggestion.split()[0] for suggestion in texts}) == 4  # different code from the first word
    assert not any(overlaps(a, b) for index, a in enumerate(texts) for b in texts[index + 1:])
    assert texts[0] == engine_suggestions(engine, text, 1)[0]
