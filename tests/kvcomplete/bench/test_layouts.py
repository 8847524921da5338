"""`kvcomplete bench layouts` on the tiny model: the costs it reports follow from each layout's shape."""

from __future__ import annotations

import json

import pytest

from kvcomplete.bench.layouts import main
from kvcomplete.completion.config import Settings


@pytest.mark.slow  # the layouts benchmark, end to end
def test_layout_costs(tiny_model_dir, capsys):
    assert main(Settings(model=str(tiny_model_dir), device="cpu"), quick=True, as_json=True) == 0
    layouts = json.loads(capsys.readouterr().out)["layouts"]
    assert layouts["spm"]["type"]["max_stale"] == 0  # typing appends to the end of an SPM prompt
    assert layouts["psm"]["type"]["max_stale"] > 0  # ... and moves PSM's whole suffix
    assert layouts["ltr"]["move"]["tokens_encoded"] == 0  # a left-to-right cursor move is free
    assert layouts["spm"]["move"]["tokens_encoded"] > 0
    for layout in layouts.values():
        assert 0 < layout["open"]["tokens_encoded"] <= Settings().context_tokens and layout["type"]["steps"] > 10
