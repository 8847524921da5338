"""The *memory* suite: KV bytes per document, peak memory, and LRU eviction under kvBudgetMB.

- kv_per_1k_tokens: bytes one document's cache holds per 1k tokens: the K and V attention reads, plus
  PIE's copy of each key as encoded (re-rotation always starts from it), and what sessions actually
  allocate (capacity rounded up for scratch slots).
- eviction: ``memory_files`` documents are opened and completed one after another in an engine whose
  budget fits about ``memory_fit`` of them; after each, which caches are resident and their total.
  Then two checks that eviction loses nothing but time: an evicted document completed again is
  re-encoded to exactly a fresh encode's K/V and gives its earlier suggestion; a document edited while
  evicted gives a fresh engine's suggestion for the edited text.
- peak: the process's peak RSS so far (model and earlier suites included) and, on CUDA, the GPU's peak
  allocation during this suite.
"""

from __future__ import annotations

import math
import resource
import statistics

import torch

from kvcomplete.bench.report import table
from kvcomplete.bench.scale import Scale
from kvcomplete.bench.sources import cut_to_tokens, held_out_modules, read_module
from kvcomplete.completion.cache.session import Session
from kvcomplete.completion.config import Settings
from kvcomplete.completion.engine import Engine
from kvcomplete.completion.model.spec import LoadedModel
from kvcomplete.completion.text.mirror import TextChange

MIB = 2**20
MAX_TOKENS = 8
EDIT = "    value = compute(value)\n"  # inserted mid-document into a document while it is evicted


def kv_per_1k_tokens(engine: Engine, sessions: list[Session]) -> list[dict]:
    layers, heads, dim = engine.runner.store_shape
    per_token = layers * heads * dim * engine.loaded.dtype.itemsize  # one tensor (K or V) of one token
    allocated = round(statistics.median(session.nbytes() / session.length for session in sessions))
    rows = [("K + V (read by attention)", 2 * per_token),
            ("+ keys as encoded (PIE re-rotates from them)", 3 * per_token),
            (f"allocated per session (median of {len(sessions)}; scratch slots and capacity rounding included)",
             allocated)]
    return [{"what": what, "bytes_per_token": size, "mb_per_1k_tokens": round(size * 1000 / MIB, 2)}
            for what, size in rows]


def _documents(scale: Scale, vocab) -> dict[str, str]:
    """The first ``memory_files`` modules (sorted) large enough, cut to ``memory_tokens`` tokens."""
    paths = held_out_modules(1, min_chars=8 * scale.memory_tokens)[: scale.memory_files]
    return {f"file:///bench/memory/{path.name}": cut_to_tokens(read_module(path), scale.memory_tokens, vocab)
            for path in paths}


def _name(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


def _resident(engine: Engine) -> list[str]:
    return [uri for uri, doc in engine.documents.items() if doc.session is not None]


def _first_suggestion(engine: Engine, uri: str) -> str:
    engine.documents[uri].shown = None  # a new request, not typing along an earlier suggestion
    suggestions = engine.complete(uri, len(engine.text(uri))).suggestions
    return suggestions[0].text if suggestions else ""


def _kv_difference(session: Session, fresh: Session) -> float:
    """Largest absolute difference between two sessions' document K/V (inf when their tokens differ)."""
    if session.tokens != fresh.tokens:
        return math.inf
    end = session.length
    pairs = ((session.store.keys, fresh.store.keys), (session.store.values, fresh.store.values))
    return max(float((mine[:, :, :end] - theirs[:, :, :end]).abs().max()) for mine, theirs in pairs) if end else 0.0


def _check_reopen(engine: Engine, fresh: Engine, uri: str, earlier: str | None) -> dict:
    """Complete ``uri`` (evicted) again; compare with a fresh engine's encode and with ``earlier``."""
    encodes = engine.stats()["fullEncodes"]
    suggestion = _first_suggestion(engine, uri)
    fresh.open(uri, engine.text(uri))
    fresh_suggestion = _first_suggestion(fresh, uri)
    difference = _kv_difference(engine.documents[uri].session, fresh.documents[uri].session)
    fresh.close(uri)
    return {"document": _name(uri), "re_encoded": engine.stats()["fullEncodes"] == encodes + 1,
            "kv_max_abs_difference": difference, "same_as_fresh_engine": suggestion == fresh_suggestion,
            "same_as_before_eviction": None if earlier is None else suggestion == earlier}


def run(settings: Settings, loaded: LoadedModel, scale: Scale) -> dict:
    if loaded.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(loaded.device)
    settings = settings.replace(suggestions=1, max_tokens=MAX_TOKENS, speculation=False)
    engine = Engine(settings, loaded=loaded)
    documents = _documents(scale, engine.vocab)
    trace, firsts, resident = [], {}, []
    for number, (uri, text) in enumerate(documents.items()):
        engine.open(uri, text)
        firsts[uri] = _first_suggestion(engine, uri)
        if number == 0:  # now the size of one document's cache is known: a budget that fits memory_fit
            size = engine.documents[uri].session.nbytes()
            engine.reconfigure(settings.replace(kv_budget_mb=max(1, math.ceil(scale.memory_fit * size / MIB))))
        before, resident = resident, _resident(engine)
        trace.append({"opened": number + 1, "document": _name(uri), "resident": len(resident),
                      "kv_mb": round(engine.stats()["kvBytes"] / MIB, 2), "evictions": engine.stats()["evictions"],
                      "evicted_now": [_name(gone) for gone in before if gone not in resident],
                      "resident_documents": [_name(kept) for kept in resident]})
    sessions = [engine.documents[uri].session for uri in _resident(engine)]
    per_1k = kv_per_1k_tokens(engine, sessions)
    evicted = [uri for uri in documents if engine.documents[uri].session is None]
    fresh = Engine(settings, loaded=loaded)  # the run's budget: nothing is evicted there
    checks = []
    if evicted:
        checks.append(_check_reopen(engine, fresh, evicted[0], firsts[evicted[0]]))
    if len(evicted) > 1:
        uri = evicted[1]
        text = engine.text(uri)
        middle = text.index("\n", len(text) // 2) + 1
        engine.change(uri, [TextChange(middle, middle, EDIT)])
        checks.append(_check_reopen(engine, fresh, uri, None))
    peak = {"peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    if loaded.device.type == "cuda":
        peak["gpu_peak_allocated_mb"] = round(torch.cuda.max_memory_allocated(loaded.device) / MIB, 1)
    budget = engine.settings.kv_budget_mb
    return {"kv_per_1k_tokens": per_1k, "budget_mb": budget, "fits_documents": budget * MIB // size, "eviction": trace,
            "reopen_checks": checks, "peak": peak,
            "setup": {"files": len(documents), "tokens_per_file": scale.memory_tokens, "fit": scale.memory_fit}}


def markdown(result: dict) -> str:
    setup = result["setup"]
    peak = ", ".join(f"{key} {value}" for key, value in result["peak"].items())
    return (table(result["kv_per_1k_tokens"])
            + f"\n{setup['files']} documents of {setup['tokens_per_file']} tokens opened and completed in turn, "
            f"kvBudgetMB {result['budget_mb']} (fits {result['fits_documents']} documents' caches):\n\n"
            + table(result["eviction"], ["opened", "document", "resident", "kv_mb", "evictions", "evicted_now"])
            + "\nEvicted documents completed again:\n\n" + table(result["reopen_checks"])
            + f"\nPeak memory: {peak}.\n")
