"""The command line: its flags and the settings they give; run as a user runs it: clear errors, non-zero exit,
no traceback; JSON output."""

from __future__ import annotations

import argparse
import json
import subprocess

import pytest

from kvcomplete.cli import _settings, build_parser
from kvcomplete.completion.config import Settings
from kvcomplete.demo.server import console_script

slow = pytest.mark.slow  # the test starts `kvcomplete` (torch, transformers) in a subprocess
MODEL_FLAGS = ["--model", "--device", "--dtype", "--weights", "--compile", "--no-pie", "--context-tokens",
               "--latency-budget-ms", "--fim-layout", "--kernels", "--allow-pickle"]
BACKEND_FLAGS = ["--backend", "--backend-url", "--backend-model", "--backend-timeout-ms", "--backend-fallback"]
FLAGS = {
    "info": [*MODEL_FLAGS, "--json", "--measure"],
    "complete": [*MODEL_FLAGS, *BACKEND_FLAGS, "-k", "--max-tokens", "--no-speculation", "--json", "--workspace"],
    "serve": [*MODEL_FLAGS, *BACKEND_FLAGS, "--tcp"],
    "demo": [*MODEL_FLAGS, "-k", "--max-tokens", "--pace", "--compare"],
    "bench": [*MODEL_FLAGS, "--json", "--quick", "--out", "--note", "--repo", "--max-commits", "--max-cases",
              "--baseline-only", "--typing", "--gguf"],
}


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(argv)


@pytest.mark.parametrize("command", FLAGS)
def test_each_command_has_its_flags(command):
    commands = next(action for action in build_parser()._actions if isinstance(action, argparse._SubParsersAction))
    flags = {flag for action in commands.choices[command]._actions for flag in action.option_strings}
    assert flags - {"-h", "--help"} == set(FLAGS[command])


def test_every_settings_flag_reaches_the_settings():
    args = parse("complete", "a.py:1:1", "--model", "m", "--device", "cpu", "--dtype", "float32", "--weights", "int8",
                 "--compile", "on", "-k", "2", "--max-tokens", "4", "--no-speculation", "--no-pie",
                 "--context-tokens", "512", "--latency-budget-ms", "0", "--fim-layout", "psm", "--kernels", "torch",
                 "--allow-pickle")
    assert _settings(args) == Settings(model="m", device="cpu", dtype="float32", weights="int8", compile="on",
                                       suggestions=2, max_tokens=4, speculation=False, pie=False, context_tokens=512,
                                       latency_budget_ms=0, fim_layout="psm", kernels="torch", allow_pickle=True)


@pytest.mark.parametrize("argv, settings", [
    (["serve"], Settings()),
    (["complete", "a.py:1:1"], Settings()),
    (["demo"], Settings(max_tokens=24)),  # a short demo on a CPU
    (["bench", "edits", "--no-pie"], Settings(pie=False)),
])
def test_unset_flags_keep_the_defaults(argv, settings):
    assert _settings(parse(*argv)) == settings


@pytest.mark.parametrize("argv", [
    ["serve", "-k", "2"],
    ["info", "--device", "tpu"],
    ["complete", "a.py:1:1", "-k", "two"],
])
def test_a_flag_the_command_lacks_or_a_bad_value_is_refused(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        parse(*argv)
    assert exited.value.code == 2 and "error:" in capsys.readouterr().err


def kvcomplete(*args, timeout=300):
    return subprocess.run([console_script(), *args], capture_output=True, text=True, timeout=timeout)


def assert_clean_error(result, expected):
    assert result.returncode == 2, result
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


@slow
def test_missing_model_folder(tmp_path):
    assert_clean_error(kvcomplete("info", "--model", str(tmp_path / "missing")), "model folder not found")


@slow
def test_non_rotary_model(tmp_path):
    import transformers

    transformers.GPT2LMHeadModel(transformers.GPT2Config(vocab_size=64, n_embd=32, n_layer=1, n_head=2)
                                 ).save_pretrained(tmp_path)
    assert_clean_error(kvcomplete("info", "--model", str(tmp_path)), "no rotary position embeddings")


@slow
def test_file_that_is_not_text(tmp_path, tiny_model_dir):
    binary = tmp_path / "image.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert_clean_error(kvcomplete("complete", f"{binary}:1:1", "--model", str(tiny_model_dir)),
                       "not a text file")


@slow
def test_position_outside_the_file(tmp_path, tiny_model_dir):
    source = tmp_path / "a.py"
    source.write_text("x = 1\n")
    assert_clean_error(kvcomplete("complete", f"{source}:9:1", "--model", str(tiny_model_dir)), "line 9")


@slow
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


@slow
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


@slow
@pytest.mark.default_model
def test_info_on_the_default_model():
    result = kvcomplete("info", "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["family"] == "llama" and info["rotary"]["shiftable"] and info["fim"] is False
