"""Decoding through a session equals plain `model.generate` greedy decoding, token for token."""

from __future__ import annotations

import pytest
import torch

from kvcomplete.completion.cache.session import EditMode, Session
from kvcomplete.completion.config import Settings
from kvcomplete.completion.decoding.decoding import ALTERNATIVE_STEPS, Decoding, line_end
from kvcomplete.completion.model.loading import load
from kvcomplete.completion.model.runner import ModelRunner
from kvcomplete.completion.prompt.builder import Prompt
from kvcomplete.completion.text.mirror import TextChange, TokenMirror
from kvcomplete.completion.text.vocab import Vocabulary

SOURCE = "import math\n\n\ndef area(radius):\n    return math.pi * radius ** 2\n\n\ndef circumference(radius):\n"


@pytest.fixture(scope="module", params=["llama", "gemma3_text"])
def model_dir(request, tiny_model_dir, save_tiny_model, tmp_path_factory, tokenizer):
    """The default model's family, and Gemma 3's sliding-window layers (a window shorter than SOURCE)."""
    if request.param == "llama":
        return tiny_model_dir
    return save_tiny_model(request.param, tmp_path_factory.mktemp(request.param), tokenizer)


@pytest.fixture(scope="module")
def tiny(model_dir):
    # float32: the comparisons below hold to fp32 rounding (bf16 on the default model: test_engine_speculation)
    loaded = load(Settings(model=str(model_dir), device="cpu", dtype="float32", weights="fp32"))
    return loaded, ModelRunner(loaded), Vocabulary(loaded.tokenizer)


@pytest.fixture(scope="module")
def stock_model(model_dir):
    """The same weights with transformers' own SDPA attention and cache: the reference."""
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(model_dir, attn_implementation="sdpa").eval()


def generate(model, tokens, count):
    out = model.generate(torch.tensor([tokens]), max_new_tokens=count, min_new_tokens=count, do_sample=False,
                         attention_mask=torch.ones(1, len(tokens), dtype=torch.long))
    return out[0, len(tokens):].tolist()


def greedy(decode, runner, vocab, session, prompt_len, count, k=1):
    tokens = session.tokens
    prompt = Prompt(prefix_len=prompt_len - 1, last_token=tokens[prompt_len - 1], last_position=prompt_len - 1,
                    healed=b"")
    return decode(runner, session.store, prompt, vocab, k=k, max_tokens=count)[0]


@pytest.mark.parametrize("cut", [None, SOURCE.index("    return")])
def test_session_greedy_equals_generate(tiny, stock_model, cut, decode_to_end):
    loaded, runner, vocab = tiny
    document = TokenMirror(vocab, SOURCE)
    session = Session(runner, document.tokens)
    prompt_len = len(document.tokens) if cut is None else document.split_at(cut)[0]
    branches = greedy(decode_to_end, runner, vocab, session, prompt_len, 12)
    assert branches[0].tokens == generate(stock_model, document.tokens[:prompt_len], 12)
    assert session.store.length == len(document.tokens), "suggestion tokens must stay scratch"


def test_first_of_k_branches_is_greedy_and_alternatives_differ(tiny, stock_model, decode_to_end):
    loaded, runner, vocab = tiny
    document = TokenMirror(vocab, SOURCE)
    session = Session(runner, document.tokens)
    branches = greedy(decode_to_end, runner, vocab, session, len(document.tokens), 8, k=3)
    assert branches[0].tokens == generate(stock_model, document.tokens, 8)
    assert len({b.tokens[0] for b in branches}) == 3


def test_greedy_after_edits_in_reencode_mode_equals_generate(tiny, stock_model, decode_to_end):
    loaded, runner, vocab = tiny
    document = TokenMirror(vocab, SOURCE)
    session = Session(runner, document.tokens, EditMode.REENCODE)
    for change in (TextChange(7, 11, "cmath"), TextChange(len("import cmath"), len("import cmath"), "\nimport os")):
        session.apply(document.apply(change))
    branches = greedy(decode_to_end, runner, vocab, session, len(document.tokens), 10)
    assert branches[0].tokens == generate(stock_model, document.tokens, 10)


def test_alternatives_stop_setting_the_length_once_the_first_is_done(tiny, decode_to_end, never_stop):
    """Suggestion #1 done, the alternatives take at most ALTERNATIVE_STEPS more steps and end where their line
    does: what they show is a prefix of what they would have grown into, and #1 is untouched."""
    loaded, runner, vocab = tiny
    document = TokenMirror(vocab, SOURCE)
    session = Session(runner, document.tokens)
    tokens = document.tokens
    prompt = Prompt(prefix_len=len(tokens) - 1, last_token=tokens[-1], last_position=len(tokens) - 1, healed=b"")
    unlimited = decode_to_end(runner, session.store, prompt, vocab, k=3, max_tokens=16)[0]
    decoding = Decoding(runner, session.store, prompt, vocab, never_stop, k=3, max_tokens=16)
    decoding.step()
    decoding.branches[0].done = True  # as a stop rule would end it
    decoding.run(lambda: False)
    assert decoding.steps <= 2 + ALTERNATIVE_STEPS < 16
    assert decoding.branches[0].tokens == unlimited[0].tokens[:2]
    for limited, full in zip(decoding.branches[1:], unlimited[1:]):
        assert full.text.startswith(limited.text) and limited.done


def test_line_end_finds_where_a_line_ended():
    assert line_end("a = 1\nb = 2\nc", 0) == 5
    assert line_end("a = 1\nb = 2\nc", 1) == 11
    assert line_end("a = 1\nb = 2\nc", 2) is None


def test_the_step_that_would_end_past_the_deadline_is_not_started(tiny, never_stop):
    """With a deadline, a step is started only if it ends in time by the last step's duration; the answer then
    leaves by the deadline, not one step after it. Each step takes 0.1 s of a fake clock here."""
    loaded, runner, vocab = tiny
    tokens = TokenMirror(vocab, SOURCE).tokens
    session = Session(runner, tokens)
    prompt = Prompt(prefix_len=len(tokens) - 1, last_token=tokens[-1], last_position=len(tokens) - 1, healed=b"")
    now = [0.0]
    decoding = Decoding(runner, session.store, prompt, vocab, never_stop, k=1, max_tokens=16)
    take_step = decoding.step

    def step_of_a_tenth() -> None:
        take_step()
        now[0] += 0.1

    decoding.step = step_of_a_tenth
    assert decoding.branches[0].text  # the rule only cuts once suggestion #1 has text
    decoding.run(lambda: False, deadline=0.25, clock=lambda: now[0])
    assert decoding.steps == 2 and now[0] <= 0.25  # a third step would have ended at 0.3
    decoding.run(lambda: False, deadline=0.45, clock=lambda: now[0])
    assert decoding.steps == 4 and not decoding.done
