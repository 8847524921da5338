"""Where llama.cpp's tools are looked for, and what a user is told when they are not built."""

from __future__ import annotations

import os

from kvcomplete import llama_cpp


def test_tools_are_found_only_once_built_and_executable(tmp_path, monkeypatch):
    monkeypatch.setenv("KVCOMPLETE_HOME", str(tmp_path))
    assert llama_cpp.bin_dir() == tmp_path / "llama.cpp" / llama_cpp.SDIST_VERSION / "bin"
    assert llama_cpp.binary("llama-server") is None
    assert "make llama-cpp" in llama_cpp.missing_message("llama-server")
    llama_cpp.bin_dir().mkdir(parents=True)
    tool = llama_cpp.bin_dir() / "llama-server"
    tool.write_text("")
    assert llama_cpp.binary("llama-server") is None, "not executable: not a built tool"
    os.chmod(tool, 0o755)
    assert llama_cpp.binary("llama-server") == tool
