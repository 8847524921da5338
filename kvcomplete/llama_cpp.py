"""llama.cpp's tools (llama-server, llama-bench, llama-quantize), built once from PyPI's source distribution.

They are the anchors measured beside kvcomplete (a team's shared engine, the speed to beat on a CPU). The
`llama-cpp-python` sdist carries llama.cpp's sources under ``vendor/llama.cpp``; `make llama-cpp` downloads
that pinned version (network at setup only), builds the three CPU targets with cmake and keeps the binaries
in the user cache, where tests and benchmarks find them. About 25 minutes on 2 cores, once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Callable

from kvcomplete.completion.model.default_model import cache_root, pip_download

SDIST_VERSION = "0.3.36"  # llama-cpp-python; its vendored llama.cpp is what is built
TARGETS = ("llama-server", "llama-bench", "llama-quantize")


def bin_dir() -> Path:
    return cache_root() / "llama.cpp" / SDIST_VERSION / "bin"


def binary(name: str) -> Path | None:
    """The built tool ``name`` (one of TARGETS), or None when `make llama-cpp` has not built it here."""
    path = bin_dir() / name
    return path if os.access(path, os.X_OK) else None


def missing_message(name: str) -> str:
    return f"{name} is not built here: `make llama-cpp` builds it once into {bin_dir()} (about 25 min on 2 cores)"


def build(log: Callable[[str], None] = print, jobs: int | None = None) -> Path:
    """Download the sdist, build TARGETS (CPU, static) and install them into ``bin_dir()``; returns it."""
    target = bin_dir()
    if all(binary(name) for name in TARGETS):
        log(f"llama.cpp tools already built in {target}")
        return target
    with tempfile.TemporaryDirectory(prefix="kvcomplete-llama-cpp-") as tmp:
        work = Path(tmp)
        log(f"downloading llama-cpp-python=={SDIST_VERSION} (source distribution, about 77 MB)")
        pip_download(work, f"llama-cpp-python=={SDIST_VERSION}", source=True)
        (sdist,) = work.glob("llama_cpp_python-*.tar.gz")
        with tarfile.open(sdist) as archive:
            archive.extractall(work, filter="data")
        source = next(work.glob("llama_cpp_python-*/vendor/llama.cpp"))
        build_dir = work / "build"
        log(f"building {', '.join(TARGETS)} with cmake (CPU); this takes a while")
        subprocess.run(["cmake", "-S", str(source), "-B", str(build_dir), "-DCMAKE_BUILD_TYPE=Release",
                        "-DBUILD_SHARED_LIBS=OFF", "-DLLAMA_CURL=OFF", "-DLLAMA_OPENSSL=OFF", "-DGGML_NATIVE=ON",
                        "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF"], check=True)
        subprocess.run(["cmake", "--build", str(build_dir), "--config", "Release", "-j", str(jobs or os.cpu_count()),
                        "--target", *TARGETS], check=True)
        staging = target.with_name("bin.partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for name in TARGETS:
            shutil.copy2(build_dir / "bin" / name, staging / name)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    log(f"llama.cpp tools built in {target}")
    return target
