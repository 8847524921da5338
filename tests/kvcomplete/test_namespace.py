"""Guard: nothing of ours is importable under a bare generic name, so Hugging Face's ``kernels`` (which
transformers imports) and our ``kvcomplete.kernels`` live side by side in one process.

The collision this guards against: transformers 5.25 made ``kernels`` a hard dependency and imports it; a
top-level package of ours named ``kernels`` (installed, or the repository root on ``sys.path``) shadowed it
and every import of transformers failed.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
OUR_FOLDERS = ("completion", "kernels", "lsp_server", "demo")


def _in_our_folders(origin: str | None) -> bool:
    """Whether ``origin`` is one of our source folders (not the venv, which may sit in the checkout)."""
    return origin is not None and any(Path(origin).resolve().is_relative_to(REPOSITORY / name)
                                      for name in OUR_FOLDERS)


@pytest.mark.parametrize("name", OUR_FOLDERS)
def test_no_folder_of_ours_is_importable_under_its_bare_name(name):
    spec = importlib.util.find_spec(name)
    origin = spec.origin if spec is not None else None
    assert not _in_our_folders(origin), f"`import {name}` finds our folder {origin}: it shadows PyPI's {name}"


@pytest.mark.parametrize("name", OUR_FOLDERS)
def test_every_folder_of_ours_is_importable_in_the_namespace(name):
    module = importlib.import_module(f"kvcomplete.{name}")
    assert Path(module.__file__).resolve() == REPOSITORY / name / "__init__.py"


def test_hugging_face_kernels_loads_the_way_transformers_imports_it_beside_ours():
    from transformers.integrations import hub_kernels  # does `from kernels import CUDAProperties, ...`
    from transformers.utils.import_utils import is_kernels_available

    from kvcomplete.kernels.tree_attention import tree_attention  # ours first, as a server process does

    assert is_kernels_available(), "transformers should see Hugging Face's kernels package (a dependency it pins)"
    hub = sys.modules["kernels"]
    assert not _in_our_folders(hub.__file__), f"`kernels` resolved to our folder: {hub.__file__}"
    assert hub_kernels.get_kernel_hub is hub.get_kernel
    assert tree_attention.__module__ == "kvcomplete.kernels.tree_attention"
