"""Fixtures of the Neovim tests: the helpers of ``neovim.py``, and the skip without Neovim 0.12.

Every test here starts ``nvim`` (``nvim -l`` for the plugin's pure functions, a headless Neovim for the rest), so
every module is marked ``e2e``. Whether Neovim 0.12 is installed is asked when the first of them runs, not when
the modules are collected: ``nvim --version`` is a subprocess too, and the fast suite collects these modules.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Callable

import pytest

from tests.editors.nvim import neovim


@pytest.fixture(scope="session", autouse=True)
def _neovim_0_12() -> None:
    neovim.require_neovim_0_12()


@pytest.fixture(scope="session")
def run_lua() -> Callable[..., object]:
    """``run_lua(folder, body, data=None)``: the value a Lua function body returns, run by ``nvim -l`` with the
    plugin on the runtimepath and ``data`` (JSON) as ``DATA``; ``folder`` takes the script and Neovim's state."""
    return neovim.run_lua


@pytest.fixture(scope="session")
def run_shipped_config() -> Callable[..., subprocess.CompletedProcess]:
    """``run_shipped_config(home, name, *commands)``: Neovim on one of the plugin's shipped configs, without
    ``kvcomplete`` on PATH."""
    return neovim.run_shipped_config


@pytest.fixture(scope="session")
def start_neovim() -> Callable[..., neovim.Neovim]:
    """``start_neovim(home, ui, settings=None, **options)``: a headless Neovim whose plugin starts ``kvcomplete
    serve`` (from this venv) with ``settings``, through ``ui``, with more setup() ``options`` if given; the caller
    closes it."""

    def start(home: Path, ui: str, settings: dict | None = None, **more: object) -> neovim.Neovim:
        options = {"cmd": [str(neovim.KVCOMPLETE), "serve"], "ui": ui, **more}
        return neovim.Neovim(home, options if settings is None else {**options, "settings": settings})

    return start


@pytest.fixture(scope="session")
def accept_part() -> Callable[[str, str], str]:
    """``accept_part(text, kind)``: what a partial accept of ``kind`` ('word', 'line') inserts of ``text``, by the
    plugin's rules written in Python."""
    return neovim.accept_part
