"""Decoding k suggestions in lockstep, speculatively: one forward per step verifies a whole token tree.

A ``Decoding`` advances one step at a time, so a request can stop at its latency budget and background
work can carry the same decoding on later (same branches, same scratch).

The prompt's last token is run once more into scratch to get the next-token distribution. With k > 1 the
greedy tokens that add no new text yet (healed bytes, indentation: completion/decoding/alternatives.py) are decoded
first, into scratch all branches share; then the greedy token and the best tokens whose new text is distinct
start k branches (suggestion #1 is the greedy one). Each step then builds one tree holding every unfinished
branch's newest token as a root, with suggestion #1's drafts below its root, runs one forward over it, and
accepts per branch the longest path whose every token is the model's own choice (argmax, or the
healing-constrained argmax) plus the bonus token after it. Accepted nodes' K/V are compacted into the
branch's scratch; the rest is dropped. Branch #1 is therefore exactly plain greedy decoding whatever the
drafts; without drafts the tree is just the roots and this is plain batched greedy decoding. Nothing is
committed: the store's length is unchanged (scratch stays scratch).

Once suggestion #1 is done, the alternatives no longer decide how many steps there are: each ends at the end
of the line it is on, or ALTERNATIVE_STEPS steps later as it stands (with k = 4 the slowest alternative used
to set the request's length: 2.4x the time of k = 1).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Callable, Protocol, Sequence

import torch

from kvcomplete.completion.cache.kv_store import KVStore
from kvcomplete.completion.decoding.alternatives import new_text, starts
from kvcomplete.completion.decoding.scratch import Cancelled, DecodeStats, Scratch
from kvcomplete.completion.decoding.stops import StopRule
from kvcomplete.completion.decoding.tree import build_tree
from kvcomplete.completion.decoding.verify import accept_path
from kvcomplete.completion.drafts.budget import SpeculationBudget
from kvcomplete.completion.model.runner import ModelRunner
from kvcomplete.completion.prompt.builder import Prompt
from kvcomplete.completion.text.vocab import Vocabulary

MAX_SHARED = 4  # greedy tokens adding no new text that the branches share at most before they split
CANDIDATES = 8  # tokens drawn per suggestion where the branches split, to find k distinct ones
ALTERNATIVE_STEPS = 2  # steps the alternatives may take once suggestion #1 is done, to end their line


@dataclass(slots=True)
class Branch:
    """One suggestion being generated. ``tokens[-1]`` is the newest token, whose K/V is not computed yet;
    ``pending`` are healed bytes it must still reproduce."""

    index: int
    pending: bytes
    tokens: list[int] = field(default_factory=list)
    logprob: float = 0.0
    done: bool = False
    text: str = ""
    split_logprob: float = 0.0  # of the token where it left the other branches (the first adding new text)
    generated: bytes = b""  # the tokens' bytes, kept as they grow (no re-decoding of the whole branch)
    last_line: int | None = None  # an alternative's line (newlines in its text) when suggestion #1 was done


class Drafting(Protocol):
    """Where drafts come from (CopySpec, Superposed Decoding); see completion/drafts/."""

    def start(self, first_logprobs: torch.Tensor, branches: list[Branch], prompt: Prompt,
              step: Callable[[torch.Tensor, int], torch.Tensor]) -> None: ...

    def propose(self, branch: Branch, prompt: Prompt) -> list[Sequence[int]]: ...

    def observe(self, proposed: int, accepted: int) -> None: ...


def choose(logprobs: torch.Tensor, vocab: Vocabulary, pending: bytes, count: int) -> list[int]:
    """The ``count`` most likely next tokens; while healing, only tokens that agree with ``pending``."""
    if pending:
        allowed = torch.tensor(vocab.compatible_with(pending), dtype=torch.long, device=logprobs.device)
        best = logprobs[allowed].topk(min(count, len(allowed))).indices
        return allowed[best].tolist()
    return logprobs.topk(count).indices.tolist()


def shared_start(scratch: Scratch, logprobs: torch.Tensor, vocab: Vocabulary,
                 limit: int) -> tuple[torch.Tensor, list[tuple[int, float]]]:
    """The greedy tokens from the cursor, at most ``limit``, while they add no new text (they reproduce the
    healed bytes or re-spell the indentation: completion/alternatives.new_text), each run once into a SHARED
    slot, so that the branches split where the new text begins. Returns the log-probabilities [vocab] after
    them and their (token, log-probability) pairs."""
    healed, generated, shared = scratch.prompt.healed, b"", []
    while len(shared) < limit:
        token = choose(logprobs, vocab, healed[len(generated):], 1)[0]
        if token in vocab.special_ids or new_text(generated + vocab.bytes_of[token], healed):
            break
        shared.append((token, float(logprobs[token])))
        generated += vocab.bytes_of[token]
        logprobs = scratch.shared(token, scratch.prompt.last_position + len(shared))
    return logprobs, shared


class Decoding:
    """One request's k suggestions (branch 0 = greedy), each ending by ``stop``, EOS or ``max_tokens``.

    Construction runs the prompt's last token and starts the branches; each ``step`` is one tree forward
    that accepts what the model confirms. Nothing is committed to the document's cache.
    """

    @torch.inference_mode()
    def __init__(self, runner: ModelRunner, store: KVStore, prompt: Prompt, vocab: Vocabulary, stop: StopRule,
                 k: int, max_tokens: int, cancelled: Callable[[], bool] = lambda: False,
                 drafting: Drafting | None = None, budget: SpeculationBudget | None = None) -> None:
        self.prompt, self.vocab, self.stop, self.max_tokens = prompt, vocab, stop, max_tokens
        self.drafting, self.budget = drafting, budget
        self.steps, self.first_done_at = 0, None  # steps taken; the step count when suggestion #1 was done
        self.step_seconds: float | None = None  # the last step's time, measured by ``run``
        self.scratch = Scratch(runner, store, prompt, cancelled, budget)
        logprobs, shared = self.scratch.start(), []
        if k > 1:  # the alternatives split where their new text begins (completion/decoding/alternatives.py)
            logprobs, shared = shared_start(self.scratch, logprobs, vocab, min(MAX_SHARED, max_tokens - 1))
        generated = vocab.to_bytes(token for token, _ in shared)
        candidates = choose(logprobs, vocab, prompt.healed[len(generated):], CANDIDATES * k)
        picked = starts([new_text(generated + vocab.bytes_of[token], prompt.healed) for token in candidates], k)
        self.branches = [Branch(index=i, pending=prompt.healed) for i in range(len(picked))]
        for branch, index in zip(self.branches, picked):
            for token, logprob in shared:
                self._extend(branch, token, logprob)
            branch.split_logprob = float(logprobs[candidates[index]])
            self._extend(branch, candidates[index], branch.split_logprob)
        if drafting is not None:  # drafts start where the branches split: after the shared tokens
            split = replace(prompt, healed=prompt.healed[len(generated):],
                            context=prompt.context + tuple(token for token, _ in shared))
            drafting.start(logprobs, self.branches, split,
                           lambda embedding, depth: self.scratch.superposed_step(embedding, depth + len(shared)))
            self.scratch.end_superposed()
        self._limit_alternatives()

    @property
    def stats(self) -> DecodeStats:
        return self.scratch.stats

    @property
    def done(self) -> bool:
        return all(branch.done for branch in self.branches)

    def run(self, cancelled: Callable[[], bool], deadline: float | None = None, max_steps: int | None = None,
            clock: Callable[[], float] = time.perf_counter) -> None:
        """Step until every branch is done, ``max_steps`` are taken, or, once suggestion #1 has text, the next
        step would end past ``deadline`` (``clock()`` seconds): that step is not started, so the answer leaves
        by the deadline rather than a step after it. ``cancelled()`` raises Cancelled at the next step
        boundary."""
        self.scratch.cancelled = cancelled
        steps = 0
        while not self.done and (max_steps is None or steps < max_steps) and not self._out_of_time(deadline, clock):
            started = clock()
            self.step()
            self.step_seconds = clock() - started
            steps += 1
        if cancelled():  # a superseded request is not answered, even at its deadline
            raise Cancelled()

    def _out_of_time(self, deadline: float | None, clock: Callable[[], float]) -> bool:
        if deadline is None or not self.branches[0].text:
            return False
        return clock() + self._next_step_seconds() >= deadline

    def _next_step_seconds(self) -> float:
        """The next step's expected time: the last step's, else the measured cost of a tree that wide."""
        if self.step_seconds is not None:
            return self.step_seconds
        if self.budget is None:
            return 0.0
        roots = sum(not branch.done for branch in self.branches)
        return self.budget.cost(self.budget.tree_size(roots)) / 1000

    @torch.inference_mode()
    def step(self) -> None:
        """One forward over the tree of every unfinished branch's newest token and its drafts."""
        active = [b for b in self.branches if not b.done]
        drafting, budget, prompt = self.drafting, self.budget, self.prompt
        # Drafts for suggestion #1 only: its length sets the number of steps (the alternatives end soon after
        # it); the alternatives' drafts made trees 3x wider without saving a step (bench speculation, k = 4).
        drafts = [drafting.propose(b, prompt) if drafting is not None and b.index == 0 and not b.pending else []
                  for b in active]
        size = budget.tree_size(len(active)) if budget is not None else len(active)
        tree = build_tree([(b.index, b.tokens[-1]) for b in active], drafts, max(size, len(active)))
        by_index = {b.index: b for b in active}
        positions = [prompt.last_position + len(by_index[tree.branches[node]].tokens) + tree.depths[node]
                     for node in range(len(tree))]
        logprobs = self.scratch.forward(tree.tokens, positions, tree.branches, tree.ancestor_mask())
        kept: list[int] = []
        for root, branch in enumerate(active):  # roots are the first nodes, in branch order
            kept += accept_path(tree, root, logprobs, branch, self._choose, self._extend)
        self.scratch.keep(sorted(kept), tree.branches)
        proposed, accepted = len(tree) - len(active), len(kept) - len(active)
        self.stats.draft_tokens_proposed += proposed
        self.stats.draft_tokens_accepted += accepted
        if budget is not None:
            budget.record_acceptance(proposed, accepted)
        if drafting is not None:
            drafting.observe(proposed, accepted)
        self.steps += 1
        self._limit_alternatives()

    def _limit_alternatives(self) -> None:
        """Once suggestion #1 is done: each alternative ends at its current line's end (``_extend``), or
        ALTERNATIVE_STEPS steps later as it stands."""
        if not self.branches[0].done:
            return
        if self.first_done_at is None:
            self.first_done_at = self.steps
            for branch in self.branches[1:]:
                branch.last_line = self._new_text(branch).count("\n")
        if self.steps - self.first_done_at >= ALTERNATIVE_STEPS:
            for branch in self.branches:
                branch.done = True

    def _new_text(self, branch: Branch) -> str:
        """The branch's text after the healed bytes, as generated (before any stop), or "" while healing."""
        if branch.pending:
            return ""
        return branch.generated[len(self.prompt.healed):].decode("utf-8", errors="ignore")

    def _choose(self, logprobs: torch.Tensor, branch: Branch) -> int:
        return choose(logprobs, self.vocab, branch.pending, 1)[0]

    def _extend(self, branch: Branch, token: int, logprob: float) -> None:
        """Append ``token`` and decide whether the branch is finished."""
        branch.tokens.append(token)
        branch.logprob += logprob
        piece = self.vocab.bytes_of[token]
        branch.pending = branch.pending[len(piece):] if len(piece) < len(branch.pending) else b""
        if token in self.vocab.special_ids:  # EOS and friends: not document text
            branch.tokens.pop()
            branch.done = True
        else:
            branch.generated += piece
        text = self._new_text(branch)
        end = self.stop.end_of(text)
        if end is None and branch.last_line is not None:
            end = line_end(text, branch.last_line)
        branch.text = self.stop.finish(text if end is None else text[:end])
        branch.done = branch.done or end is not None or len(branch.tokens) >= self.max_tokens


def line_end(text: str, line: int) -> int | None:
    """Where line ``line`` (0-based) of ``text`` ends, if it has ended."""
    at = -1
    for _ in range(line + 1):
        at = text.find("\n", at + 1)
        if at < 0:
            return None
    return at
