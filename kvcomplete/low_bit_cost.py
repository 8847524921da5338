"""What a low-bit weights format costs a model, measured once on this machine and kept.

``int8`` / ``int4`` weights (and GGUF blocks held in the nearest kernel) change the model, so ``kvcomplete info``
should say by how much before a user trusts them: suggestion #1's agreement with the same model's dense weights
on real code, and each one's ms per token. Measuring takes two loads and a few dozen completions, so it runs on
request (``kvcomplete info --measure``) and the record is kept in the user cache, keyed by the weight files
(path, size, mtime) and the precision; ``kvcomplete info`` shows the record that matches what it loaded.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from pathlib import Path

from kvcomplete.completion.config import Settings
from kvcomplete.completion.model.default_model import cache_root
from kvcomplete.completion.model.loading import resolve_source
from kvcomplete.completion.model.spec import LoadedModel

MODULES, PER_MODULE = 4, 5  # 20 points of real code (bench/step.py's agreement run)
GREEDY_TOKENS = 16
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf")


def record_path(settings: Settings, loaded: LoadedModel) -> Path:
    """Where the record of this model's weights in ``loaded``'s precision lives."""
    folder, gguf_file, _ = resolve_source(settings.model)
    files = [Path(folder) / gguf_file] if gguf_file else sorted(
        path for path in Path(folder).iterdir() if path.suffix in WEIGHT_SUFFIXES)
    stamps = "|".join(f"{path.resolve()}:{path.stat().st_size}:{path.stat().st_mtime_ns}" for path in files)
    key = f"{stamps}|{loaded.dtype}|{loaded.weights}|{loaded.device}"
    return cache_root() / "low-bit" / f"{hashlib.sha256(key.encode()).hexdigest()[:16]}.json"


def dense_settings(settings: Settings, loaded: LoadedModel) -> Settings:
    """The same model with dense weights in the low-bit model's dtype: the reference."""
    dense = "bf16" if str(loaded.dtype) == "torch.bfloat16" else "fp32"
    return settings.replace(weights=dense, dtype="auto")


def measure(loaded: LoadedModel, dense: LoadedModel) -> dict:
    """Suggestion #1 of ``loaded`` against ``dense`` on real code, and each one's greedy ms per token."""
    from kvcomplete.bench.step import agreement, context_ids, greedy_runner

    agreed = agreement({"dense": dense, "low-bit": loaded}, MODULES, PER_MODULE, reference="dense")
    ids = context_ids(dense)[:500]
    ms = {name: greedy_runner(model, ids, GREEDY_TOKENS) / GREEDY_TOKENS
          for name, model in (("dense", dense), ("low-bit", loaded))}
    return {"weights": loaded.weights, "dense": str(dense.dtype).removeprefix("torch."), "points": agreed["points"],
            "same_first_suggestion": agreed["same_as_reference"]["low-bit"],
            "ms_per_token": round(ms["low-bit"], 1), "dense_ms_per_token": round(ms["dense"], 1),
            "measured": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def save(path: Path, record: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n")


def summary(settings: Settings, loaded: LoadedModel) -> str | None:
    """The line ``kvcomplete info`` shows for a low-bit model: the kept record, or how to measure one when the
    user chose the format (None for dense weights, and for auto's lossless int4 with no record)."""
    if loaded.weights == "dense":
        return None
    path = record_path(settings, loaded)
    if not path.is_file():
        if loaded.weights_reason.startswith("auto"):
            return None
        return f"not measured here: `kvcomplete info --weights {settings.weights} --measure` (two loads)"
    record = json.loads(path.read_text())
    return (f"suggestion #1 equal to the dense {record['dense']} weights' on {record['same_first_suggestion']}"
            f" of {record['points']} points of real code; {record['ms_per_token']} ms/token against "
            f"{record['dense_ms_per_token']} dense (greedy, measured {record['measured']})")
