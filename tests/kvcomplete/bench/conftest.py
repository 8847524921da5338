"""Fixtures of the benchmark suites' tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def _matplotlib_font_cache() -> None:
    """matplotlib builds its font cache once per machine, running ``fc-list``: build it before the tests, which
    the subprocess guard (tests/conftest.py) keeps from starting processes, plot for the first time."""
    from matplotlib import font_manager

    font_manager.findfont("DejaVu Sans")
