"""The offline switch is set by the entry points, not by importing the engine."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from kvcomplete.completion.model.offline import OFFLINE_VARIABLES, stay_offline


def test_stay_offline_sets_what_is_unset_and_keeps_what_is_set(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "0")  # the user's choice wins
    stay_offline()
    assert (os.environ["HF_HUB_OFFLINE"], os.environ["TRANSFORMERS_OFFLINE"]) == ("1", "0")


@pytest.mark.e2e  # a fresh Python process
def test_importing_the_engine_sets_no_environment_variable(tmp_path):
    environment = {name: value for name, value in os.environ.items() if name not in OFFLINE_VARIABLES}
    script = "import os, kvcomplete.completion.engine, kvcomplete.completion.model.loading; print(sorted(set(os.environ) - set(%r)))"
    shown = subprocess.run([sys.executable, "-c", script % sorted(environment)], env=environment, cwd=tmp_path,
                           capture_output=True, text=True, check=True).stdout
    assert not any(name in shown for name in OFFLINE_VARIABLES), shown
