"""Lossless: whatever the drafts, suggestion #1 equals plain greedy decoding; good drafts save forwards."""

from __future__ import annotations

import random

import pytest
import torch

from kvcomplete.completion.cache.session import Session
from kvcomplete.completion.config import Settings
from kvcomplete.completion.decoding.decoding import Branch
from kvcomplete.completion.drafts.budget import SMOOTHING, SpeculationBudget
from kvcomplete.completion.drafts.speculation import PROBE_EVERY, SUPERPOSED_LENGTH, RequestDrafts, SuperposedValue
from kvcomplete.completion.model.loading import load
from kvcomplete.completion.model.runner import ModelRunner
from kvcomplete.completion.prompt.builder import Prompt
from kvcomplete.completion.text.mirror import TokenMirror
from kvcomplete.completion.text.vocab import Vocabulary

SOURCE = "class Point:\n    def __init__(self, x, y):\n        self.x = x\n        self.y = y\n\n    def norm(self):\n"


class FixedDrafts:
    """A drafting source that proposes given continuations, to test verification in isolation."""

    def __init__(self, propose):
        self._propose = propose
        self.observed = []

    def start(self, first_logprobs, branches, prompt, step):
        pass

    def propose(self, branch, prompt):
        return self._propose(branch)

    def observe(self, proposed, accepted):
        self.observed.append((proposed, accepted))


@pytest.fixture(scope="module")
def setup(tiny_model_dir):
    # float32: the comparisons below hold to fp32 rounding (bf16 on the default model: test_engine_speculation)
    loaded = load(Settings(model=str(tiny_model_dir), device="cpu", dtype="float32", weights="fp32"))
    runner, vocab = ModelRunner(loaded), Vocabulary(loaded.tokenizer)
    document = TokenMirror(vocab, SOURCE)
    session = Session(runner, document.tokens)
    tokens = document.tokens
    prompt = Prompt(prefix_len=len(tokens) - 1, last_token=tokens[-1], last_position=len(tokens) - 1,
                    healed=b"", context=tuple(tokens))
    return runner, vocab, session, prompt


@pytest.fixture
def run(setup, decode_to_end):
    """Decode 20 tokens from the setup's prompt with ``drafting``; the document's cache must stay as it was."""
    runner, vocab, session, prompt = setup

    def decode(drafting=None, k=1, budget=None):
        branches, stats = decode_to_end(runner, session.store, prompt, vocab, k=k, max_tokens=20, drafting=drafting,
                                        budget=budget)
        assert session.store.length == len(session.tokens)
        return branches, stats

    return decode


def test_oracle_drafts_give_the_same_tokens_in_fewer_forwards(setup, run):
    plain, plain_stats = run(k=2)
    truth = {b.index: b.tokens for b in plain}
    oracle = FixedDrafts(lambda branch: [truth[branch.index][len(branch.tokens):][:6]])
    spec, stats = run(oracle, k=2, budget=SpeculationBudget(max_nodes=16, acceptance=0.9))
    assert spec[0].tokens == plain[0].tokens
    # #1 alone is drafted, and the alternative ends two steps after it: what it has is where plain's went
    assert plain[1].tokens[: len(spec[1].tokens)] == spec[1].tokens and len(spec[1].tokens) < len(plain[1].tokens)
    assert stats.forwards < plain_stats.forwards / 2
    assert stats.draft_tokens_accepted > 0


def test_wrong_drafts_change_nothing(setup, run):
    # k = 2: a third branch here meets an exact tie of two tokens' log-probabilities (-10.179031372070312) at its
    # 9th token, which any change of summation order (a tree forward) breaks either way
    plain, _ = run(k=2)
    rng = random.Random(0)
    noise = FixedDrafts(lambda branch: [[rng.randrange(100, 40000) for _ in range(4)] for _ in range(3)])
    spec, stats = run(noise, k=2, budget=SpeculationBudget(max_nodes=32, acceptance=0.9))
    assert [b.tokens for b in spec] == [b.tokens for b in plain]
    assert stats.draft_tokens_proposed > 0


def test_partly_right_drafts_are_accepted_up_to_the_first_miss(setup, run):
    plain, _ = run()
    truth = plain[0].tokens

    def half_right(branch):
        rest = truth[len(branch.tokens):]
        return [rest[:2] + [7] + rest[3:6]]

    spec, stats = run(FixedDrafts(half_right), budget=SpeculationBudget(max_nodes=8, acceptance=0.9))
    assert spec[0].tokens == truth
    assert 0 < stats.draft_tokens_accepted < stats.draft_tokens_proposed


@torch.inference_mode()
def test_tree_logits_equal_sequential_decoding_of_each_path(setup):
    """One forward over a tree == decoding each node's path on its own (fp32, tight tolerance)."""
    from kvcomplete.completion.decoding.scratch import Scratch
    from kvcomplete.completion.decoding.tree import build_tree

    runner, vocab, session, prompt = setup
    store = session.store
    paths = [[11, 12, 13], [11, 14], [21, 22]]
    scratch = Scratch(runner, store, prompt, lambda: False, None)
    scratch.start()
    tree = build_tree([(0, 500), (1, 600)], [[paths[0], paths[1]], [paths[2]]], budget=16)
    positions = [prompt.last_position + 1 + depth for depth in tree.depths]
    tree_logprobs = scratch.forward(tree.tokens, positions, tree.branches, tree.ancestor_mask())
    for node in range(len(tree)):
        path, walk = [], node
        while walk >= 0:
            path.insert(0, tree.tokens[walk])
            walk = tree.parents[walk]
        sequential = Scratch(runner, store, prompt, lambda: False, None)
        sequential.start()
        chain = torch.ones(len(path), len(path), dtype=torch.bool).tril()
        logprobs = sequential.forward(path, [prompt.last_position + 1 + i for i in range(len(path))],
                                      [0] * len(path), chain)
        torch.testing.assert_close(tree_logprobs[node], logprobs[-1], atol=1e-4, rtol=1e-4)
    assert store.length == len(session.tokens)


def test_cache_after_acceptance_equals_cache_after_plain_decoding(setup, run):
    runner, vocab, session, prompt = setup
    length = session.store.length
    plain, _ = run()
    kept = len(plain[0].tokens)  # the re-run prompt token + every generated token but the newest
    plain_keys = session.store.keys[:, :, length: length + kept].clone()
    plain_values = session.store.values[:, :, length: length + kept].clone()
    with torch.inference_mode():  # wipe the scratch so only the speculative run can fill it
        session.store.keys[:, :, length:].zero_()
        session.store.values[:, :, length:].zero_()
    truth = plain[0].tokens
    oracle = FixedDrafts(lambda branch: [truth[len(branch.tokens):][:5] + [9]])
    spec, stats = run(oracle, budget=SpeculationBudget(max_nodes=16, acceptance=0.9))
    assert spec[0].tokens == truth and stats.draft_tokens_accepted > 0
    torch.testing.assert_close(session.store.keys[:, :, length: length + kept], plain_keys, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(session.store.values[:, :, length: length + kept], plain_values, atol=1e-5,
                               rtol=1e-4)


def test_the_superposed_pass_runs_while_its_guesses_pay_and_is_probed_otherwise():
    value = SuperposedValue()
    assert value.wanted(pass_ms=30.0, step_ms=20.0), "unmeasured: optimistic, so that it gets measured"
    for _ in range(20):
        value.record(0)  # its guesses never had #1's tokens right
    runs = [value.wanted(pass_ms=30.0, step_ms=20.0) for _ in range(2 * PROBE_EVERY + 2)]
    assert runs.count(True) == 2 and runs[PROBE_EVERY] and runs[2 * PROBE_EVERY + 1]
    for _ in range(20):
        value.record(SUPERPOSED_LENGTH - 1)  # now they are right all along
    assert value.wanted(pass_ms=30.0, step_ms=20.0)
    assert not value.wanted(pass_ms=30.0, step_ms=1.0), "steps so cheap that saving three cannot pay for it"


def test_finish_counts_the_first_suggestions_tokens_its_guess_had_right():
    value = SuperposedValue(guessed=0.0)
    drafts = RequestDrafts(None, None, None, None, "file:///a.py", value)
    drafts.guesses, drafts.start_at = [(7, 8, 9, 10), (5, 6, 1, 2)], 2
    prompt = Prompt(prefix_len=1, last_token=3, last_position=1, healed=b"", context=(1, 3))
    first = Branch(index=0, pending=b"", tokens=[5, 6, 1, 4, 4])
    drafts.finish(first, prompt)  # 6 and 1 after the first token 5: two right, then 4 against 2
    assert value.guessed == pytest.approx(2 * SMOOTHING)
