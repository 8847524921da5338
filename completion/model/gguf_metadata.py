"""A GGUF's config and tokenizer, converted once and kept in the user cache.

transformers reads both from a GGUF by parsing all of its metadata (a coder model's 150k-token vocabulary is
several seconds of it) and building the tokenizer from the vocabulary and merges, on every load. The result
depends only on the file, so the first load saves it as an ordinary Hugging Face folder (config.json and the
tokenizer's files, a few MB) keyed by the file's path, size and modification time; later loads read that.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from kvcomplete.completion.model.default_model import cache_root


def metadata_folder(gguf: Path) -> Path:
    """A folder with the config and tokenizer of ``gguf`` (converted now when not cached yet)."""
    stat = gguf.stat()
    key = hashlib.sha256(f"{gguf.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    folder = cache_root() / "gguf" / f"{gguf.stem}-{key}"
    if (folder / "config.json").is_file():
        return folder
    from transformers import AutoConfig, AutoTokenizer

    partial = folder.with_name(f"{folder.name}.partial-{os.getpid()}")
    AutoConfig.from_pretrained(gguf.parent, gguf_file=gguf.name, local_files_only=True).save_pretrained(partial)
    AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name, local_files_only=True).save_pretrained(partial)
    try:
        partial.rename(folder)
    except OSError:  # another process converted it meanwhile
        shutil.rmtree(partial, ignore_errors=True)
    return folder
