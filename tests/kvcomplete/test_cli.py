"""The command line, run as a user runs it: clear errors, non-zero exit, no traceback; JSON output."""

from __future__ import annotations

import json
import subprocess

import pytest

from kvcomplete.demo.server import console_script

pytestmark = pytest.mark.slow  # each test starts `kvcomplete` (torch, transformers) in a subprocess


def kvcomplete(*args, timeout=300):
    return subprocess.run([console_script(), *args], capture_output=True, text=True, timeout=timeout)


def assert_clean_error(result, expected):
    assert result.returncode == 2, result
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_model_folder(tmp_path):
    assert_clean_error(kvcomplete("info", "--model", str(tmp_path / "missing")), "model folder not found")


def test_non_rotary_model(tmp_path):
    import transformers

    transformers.GPT2LMHeadModel(transformers.GPT2Config(vocab_size=64, n_embd=32, n_layer=1, n_head=2)
                                 ).save_pretrained(tmp_path)
    assert_clean_error(kvcomplete("info", "--model", str(tmp_path)), "no rotary position embeddings")


def test_file_that_is_not_text(tmp_path, tiny_model_dir):
    binary = tmp_path / "image.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert_clean_error(kvcomplete("complete", f"{binary}:1:1", "--model", str(tiny_model_dir)),
                       "not a text file")


def test_position_outside_the_file(tmp_path, tiny_model_dir):
    source = tmp_path / "a.py"
    source.write_text("x = 1\n")
    assert_clean_error(kvcomplete("complete", f"{source}:9:1", "--model", str(tiny_model_dir)), "line 9")


def test_complete_json(tmp_path, tiny_model_dir):
    source = tmp_path / "a.py"
    source.write_text("def add(a, b):\n    return a + b\n")
    result = kvcomplete("complete", f"{source}:2:12", "-k", "2", "--max-tokens", "4", "--json",
                        "--model", str(tiny_model_dir))
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["model"] == tiny_model_dir.name
    assert 1 <= len(payload["suggestions"]) <= 2
    assert {"text", "logprob"} <= set(payload["suggestions"][0])
    assert {"load", "cache_update", "decode", "total"} <= set(payload["timings_ms"])


def test_complete_indexes_the_workspace(tmp_path, tiny_model_dir):
    (tmp_path / ".gitignore").write_text("ignored.py\n")
    (tmp_path / "ignored.py").write_text("never indexed\n")
    (tmp_path / "helpers.py").write_text("def add(a, b):\n    return a + b\n")
    source = tmp_path / "a.py"
    source.write_text("from helpers import add\nx = add(")
    result = kvcomplete("complete", f"{source}:2:9", "--max-tokens", "2", "--json", "--workspace", str(tmp_path),
                        "--model", str(tiny_model_dir))
    assert result.returncode == 0, result.stderr
    indexed = json.loads(result.stdout)["workspace"]
    files = [tmp_path / ".gitignore", tmp_path / "helpers.py", source]
    assert (indexed["folder"], indexed["indexedFiles"], indexed["indexedBytes"]) == (
        str(tmp_path), 3, sum(path.stat().st_size for path in files))
    assert_clean_error(kvcomplete("complete", f"{source}:1:1", "--workspace", str(tmp_path / "none"),
                                  "--model", str(tiny_model_dir)), "is not a folder")


@pytest.mark.default_model
def test_info_on_the_default_model():
    result = kvcomplete("info", "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["family"] == "llama" and info["rotary"]["shiftable"] and info["fim"] is False
