"""Superposed Decoding: k=1, α=0 is greedy decoding; k drafts are distinct and rooted at the top-k first
tokens; one step per extra token, fed the weighted superposition; the n-gram can change the ranking."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM, DynamicCache

from kvcomplete.completion.drafts.ngram import NGramModel
from kvcomplete.completion.drafts.superposed import ALPHA, SuperposedDrafter

SOURCE = "def area(radius):\n    return math.pi * radius ** 2\n\n\ndef circumference(radius):\n"


@pytest.fixture(scope="module")
def model(tiny_model_dir):
    return AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32).eval()


@pytest.fixture(scope="module")
def context(tokenizer) -> list[int]:
    return tokenizer(SOURCE)["input_ids"]


class ModelSteps:
    """``first_logprobs``, ``step`` and ``embed`` over a plain HF cache, as the engine provides them."""

    def __init__(self, model, context: list[int]) -> None:
        self.model, self.context, self.depths = model, context, []
        self.cache = DynamicCache(config=model.config)
        with torch.inference_mode():
            logits = model(input_ids=torch.tensor([context]), past_key_values=self.cache, use_cache=True).logits
        self.first_logprobs = torch.log_softmax(logits[0, -1], -1)  # [vocab]

    @torch.inference_mode()
    def step(self, embedding: torch.Tensor, depth: int) -> torch.Tensor:
        assert embedding.shape == (self.model.config.hidden_size,) and embedding.dtype == torch.float32
        assert self.cache.get_seq_length() == len(self.context) + depth  # position cursor + depth
        self.depths.append(depth)
        logits = self.model(inputs_embeds=embedding.view(1, 1, -1), past_key_values=self.cache, use_cache=True).logits
        return torch.log_softmax(logits[0, -1], -1)

    @torch.inference_mode()
    def embed(self, tokens: list[int]) -> torch.Tensor:
        return self.model.get_input_embeddings()(torch.tensor(tokens)).float()  # [n, hidden]


@torch.inference_mode()
def greedy(model, context: list[int], count: int) -> list[int]:
    cache, tokens, out = DynamicCache(config=model.config), list(context), []
    ids = torch.tensor([tokens])
    for _ in range(count):
        logits = model(input_ids=ids, past_key_values=cache, use_cache=True).logits
        out.append(int(logits[0, -1].argmax()))
        ids = torch.tensor([[out[-1]]])
    return out


@pytest.mark.parametrize("cut", [len(SOURCE), SOURCE.index("    return")])
def test_one_draft_without_ngram_is_greedy(model, tokenizer, cut):
    context = tokenizer(SOURCE[:cut])["input_ids"]
    steps = ModelSteps(model, context)
    drafter = SuperposedDrafter(NGramModel(), k=1, alpha=0.0)
    [draft] = drafter.propose([context], steps.first_logprobs, steps.step, steps.embed, length=8)
    assert list(draft.tokens) == greedy(model, context, 8)
    assert draft.source == "superposed"


def test_k_drafts_are_distinct_and_rooted_at_the_top_k(model, context):
    steps = ModelSteps(model, context)
    ngram = NGramModel()
    ngram.set_source("file", context)
    drafts = SuperposedDrafter(ngram, k=3).propose([context], steps.first_logprobs, steps.step, steps.embed,
                                                   length=6)
    assert len(drafts) == 3 and len({d.tokens for d in drafts}) == 3
    assert all(len(d.tokens) == 6 for d in drafts)
    assert {d.tokens[0] for d in drafts} == set(steps.first_logprobs.topk(3).indices.tolist())
    assert [d.score for d in drafts] == sorted((d.score for d in drafts), reverse=True)
    assert steps.depths == [0, 1, 2, 3, 4]  # one forward per token after the first, for all 3 drafts


class FixedSteps:
    """A constructed model over 8 tokens: one-hot embeddings, fixed next-token distributions."""

    def __init__(self) -> None:
        self.first_logprobs = torch.log_softmax(torch.tensor([0, 2.0, 1.99, 0, 0, 0, 0, 0]), 0)
        self.next_logprobs = torch.log_softmax(torch.tensor([0, 0, 0, 2.0, 1.99, 0, 0, 0]), 0)
        self.inputs: list[torch.Tensor] = []

    def step(self, embedding: torch.Tensor, depth: int) -> torch.Tensor:
        self.inputs.append(embedding)
        return self.next_logprobs

    def embed(self, tokens: list[int]) -> torch.Tensor:
        return torch.eye(8)[tokens]


def test_ngram_changes_the_ranking():
    ngram = NGramModel()
    ngram.set_source("file", [7, 2, 4, 0, 7, 2, 4])  # after 7 comes 2, after 7 2 comes 4
    steps = FixedSteps()
    by_model = SuperposedDrafter(ngram, k=2, alpha=0.0).propose([[7]], steps.first_logprobs, steps.step,
                                                               steps.embed, length=2)
    assert [d.tokens for d in by_model] == [(1, 3), (2, 3)]
    with_ngram = SuperposedDrafter(ngram, k=2, alpha=ALPHA).propose([[7]], steps.first_logprobs, steps.step,
                                                                   steps.embed, length=2)
    assert [d.tokens for d in with_ngram] == [(2, 4), (1, 3)]


def test_each_root_is_scored_in_its_own_context():
    ngram = NGramModel()
    ngram.set_source("file", [6, 1, 4, 0, 5, 1, 3, 0, 6, 2, 3, 0, 5, 2, 4])  # what follows x y depends on x
    drafter = SuperposedDrafter(ngram, k=2, alpha=ALPHA)
    steps = FixedSteps()
    drafts = drafter.propose([[6], [5]], steps.first_logprobs, steps.step, steps.embed, length=2)
    assert {d.tokens for d in drafts} == {(1, 4), (2, 4)}  # roots 1 and 2 continue 6 and 5
    drafts = drafter.propose([[5], [6]], steps.first_logprobs, steps.step, steps.embed, length=2)
    assert {d.tokens for d in drafts} == {(1, 3), (2, 3)}


def test_masked_first_tokens_root_no_draft():
    steps = FixedSteps()
    allowed = torch.full_like(steps.first_logprobs, float("-inf"))
    allowed[[2, 5]] = steps.first_logprobs[[2, 5]]  # as the engine masks first tokens when healing
    drafts = SuperposedDrafter(NGramModel(), k=3).propose([[0]], allowed, steps.step, steps.embed, length=3)
    assert sorted(d.tokens[0] for d in drafts) == [2, 5]
    assert all(torch.isfinite(torch.tensor(d.score)) for d in drafts)


def test_the_step_is_fed_the_weighted_superposition():
    steps = FixedSteps()
    SuperposedDrafter(NGramModel(), k=2, alpha=0.0, temperature=1.0).propose(
        [[0]], steps.first_logprobs, steps.step, steps.embed, length=2)
    [fed] = steps.inputs
    top2 = torch.softmax(steps.first_logprobs[[1, 2]], 0)  # the two roots' probabilities, renormalized
    assert torch.allclose(fed, torch.tensor([0, *top2.tolist(), 0, 0, 0, 0, 0]))
