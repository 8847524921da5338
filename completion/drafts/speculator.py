"""What speculation keeps between requests, and which drafters one request gets.

The drafters draw on sources that outlive a request: CopySpec and the n-gram model index every open
document, the workspace's files and past suggestions; the SpeculationBudget learns what a forward of each
width costs and how often drafts are accepted; SuperposedValue learns whether the superposed pass pays.
The engine holds one Speculator and asks it for each request's ``RequestDrafts``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable, Sequence

import torch

from kvcomplete.completion.drafts.budget import SpeculationBudget
from kvcomplete.completion.drafts.copyspec import CopySpec
from kvcomplete.completion.drafts.ngram import NGramModel
from kvcomplete.completion.drafts.speculation import SUPERPOSED_LENGTH, RequestDrafts, SuperposedValue
from kvcomplete.completion.drafts.superposed import SuperposedDrafter
from kvcomplete.completion.text.vocab import Vocabulary

if TYPE_CHECKING:
    from kvcomplete.completion.decoding.decoding import Decoding
    from kvcomplete.completion.open_documents import OpenDocument

DRAFTERS = ("copy", "superposed")
SUGGESTION_CONTEXT = 4  # prompt tokens kept in front of a past suggestion in CopySpec's history


class Speculator:
    def __init__(self, drafters: Iterable[str] = DRAFTERS) -> None:
        """``drafters``: which of DRAFTERS run (benchmarks compare subsets; users want them all)."""
        self.drafters = frozenset(drafters)
        if not self.drafters <= set(DRAFTERS):
            raise ValueError(f"unknown drafters {sorted(self.drafters - set(DRAFTERS))}: choose from {DRAFTERS}")
        self.copyspec = CopySpec()
        self.ngram = NGramModel()
        self.budget = SpeculationBudget()
        self.superposed_value = SuperposedValue()

    def set_source(self, key: str, tokens: Sequence[int] | None) -> None:
        """Index ``tokens`` under ``key`` (a document, a workspace file's piece); None: forget ``key``."""
        for index in (self.copyspec, self.ngram):
            if tokens is None:
                index.remove_source(key)
            else:
                index.set_source(key, tokens)

    def index_documents(self, documents: Iterable[OpenDocument]) -> None:
        """Give the indexes every open document's current tokens (only those that changed)."""
        for doc in documents:
            if doc.mirror is not None and doc.indexed_version != doc.mirror.version:
                self.set_source(doc.uri, doc.mirror.tokens)
                doc.indexed_version = doc.mirror.version

    def drafting(self, uri: str, k: int, vocab: Vocabulary, embed: Callable[[list[int]], torch.Tensor],
                 ms_left: float | None = None) -> RequestDrafts | None:
        """One request's drafters (None: no drafters enabled). ``ms_left``: time until the request's deadline,
        if it has one; a superposed pass that would not end by then is skipped."""
        if not self.drafters:
            return None
        copy = self.copyspec if "copy" in self.drafters else None
        superposed = SuperposedDrafter(self.ngram, k=k) if self._superposed_pays(k, ms_left) else None
        return RequestDrafts(copy, superposed, vocab, embed, uri, self.superposed_value)

    def _superposed_pays(self, k: int, ms_left: float | None) -> bool:
        """Whether this request runs a superposed pass: k > 1, it ends (after the decoding's first forward) by
        the deadline, and its measured value is worth its forwards."""
        if k < 2 or "superposed" not in self.drafters:
            return False
        pass_ms, step_ms = (SUPERPOSED_LENGTH - 1) * self.budget.cost(1), self.budget.cost(k)  # a step: k roots
        if ms_left is not None and self.budget.cost(1) + pass_ms > ms_left:
            return False
        return self.superposed_value.wanted(pass_ms, step_ms)

    def learn(self, decoding: Decoding) -> None:
        """A finished decoding: its suggestions become CopySpec history, with a little context before them so
        a later request can match into them, and the superposed pass learns how its guess did."""
        for branch in decoding.branches:
            self.copyspec.add_suggestion(decoding.prompt.context[-SUGGESTION_CONTEXT:] + tuple(branch.tokens))
        if decoding.branches and isinstance(decoding.drafting, RequestDrafts):
            decoding.drafting.finish(decoding.branches[0], decoding.prompt)
