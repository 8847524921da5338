"""How much each suite measures: the full run, and ``--quick`` (all suites in < 15 min on a 2-core CPU)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Scale:
    # edits: held-out modules (every ``module_every``-th, sorted), one sample per task each
    edit_modules: int
    edit_context_tokens: int
    edit_max_tokens: int
    update_sizes: tuple[int, ...]  # document tokens for the update-time rows
    # speculation: next-line cases in one module cut to ``speculation_tokens``
    speculation_cases: int
    speculation_tokens: int
    # memory: ``memory_files`` open documents of ``memory_tokens`` each; the KV budget fits ``memory_fit``
    memory_files: int
    memory_tokens: int
    memory_fit: int
    latency_quick: bool  # the demo's short typing trace
    module_every: int = 7

    def __post_init__(self) -> None:
        for name in ("edit_modules", "edit_context_tokens", "edit_max_tokens", "speculation_cases",
                     "speculation_tokens", "memory_files", "memory_tokens", "memory_fit", "module_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)}")
        if self.memory_fit >= self.memory_files:
            raise ValueError("memory_fit must be below memory_files, or nothing is evicted")


FULL = Scale(edit_modules=12, edit_context_tokens=1536, edit_max_tokens=32, update_sizes=(1024, 4096),
             speculation_cases=12, speculation_tokens=2048, memory_files=20, memory_tokens=1024, memory_fit=8,
             latency_quick=False)
# Quick documents stay under the runner's SINGLE_THREAD_BELOW (256 tokens): one-thread encodes, which other
# processes on a shared 2-core CPU slow down far less than two-thread ones (completion/model/runner.py).
QUICK = Scale(edit_modules=4, edit_context_tokens=240, edit_max_tokens=16, update_sizes=(1024,),
              speculation_cases=2, speculation_tokens=240, memory_files=20, memory_tokens=192, memory_fit=8,
              latency_quick=True)
