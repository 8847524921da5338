"""`kvcomplete bench models`: its table, and llama.cpp's side reported missing rather than failing."""

from __future__ import annotations

from kvcomplete.bench import models


def test_llama_cpp_side_says_how_to_build_it_when_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("KVCOMPLETE_HOME", str(tmp_path))
    assert "make llama-cpp" in models.llama_cpp_figures(tmp_path / "model.gguf", 2, 1)["missing"]


def test_markdown_puts_both_engines_side_by_side():
    ours = {"weights": "int4 x168", "first_load_seconds": 20.0, "load_seconds": 9.5, "resident_mb": 1200.0,
            "threads": 2, "ms_per_token": 40.0, "forward16_ms": 300.0, "forward16_over_forward1": 7.5}
    theirs = {"ms_per_token": 37.0, "forward16_ms": 250.0, "forward16_over_forward1": 6.76}
    text = models.markdown([{"file": "a.gguf", "file_mb": 850.0, "kvcomplete": ours, "llama.cpp": theirs,
                             "step_ratio": 1.08}])
    assert "| a.gguf | kvcomplete (int4 x168) | 40 | 300 | 7.5 | 9.5 | 20 | 1200 |" in text
    assert "| a.gguf | llama.cpp llama-bench | 37 | 250 | 6.76 |" in text
