"""The workspace index in the server: a completion answered while a large tree is indexed, progress, stats, and
watched-file events followed; ``folders_of`` unit-tested."""

from __future__ import annotations

import random
import string
from pathlib import Path

import pytest
from lsprotocol import types

from kvcomplete.demo.lsp_client import Editor
from kvcomplete.lsp_server.workspace import folders_of

FILES = 300  # Python files; with the .gitignore, FILES + 1 are indexed
SOURCE = "import os\n\n\ndef join(a, b):\n    return os.path.join(a, b)\n"


def make_tree(root: Path) -> Path:
    """FILES Python files of ~5 KB of varied identifiers (hundreds of thousands of tokens), and ignored ones."""
    rng = random.Random(0)
    for number in range(FILES):
        names = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(3, 12))) for _ in range(400)]
        lines = [f"{a} = {b}({c}, {d})" for a, b, c, d in zip(names[::4], names[1::4], names[2::4], names[3::4])]
        path = root / f"pkg{number % 10}" / f"module{number}.py"
        path.parent.mkdir(exist_ok=True)
        path.write_text("\n".join(lines) + "\n")
    (root / ".gitignore").write_text("*.tmp\n")
    (root / "scratch.tmp").write_text("ignored\n")
    return root


@pytest.mark.e2e
async def test_completion_answered_while_a_large_tree_is_indexed(start_server, tiny_options, tmp_path, eventually):
    root = make_tree(tmp_path)
    client = await start_server({**tiny_options, "indexMaxBytes": 10_000_000}, root_uri=root.as_uri())
    editor = Editor(client, (root / "main.py").as_uri(), SOURCE)
    await eventually(lambda: _stats_when(client, lambda stats: stats["indexedFiles"] > 0))
    items = await client.inline(editor.uri, editor.position())
    stats = await client.stats()
    assert len(items) == 3
    assert 0 < stats["indexedFiles"] < FILES  # answered while the index was still at work
    stats = await eventually(lambda: _stats_when(client, lambda stats: stats["indexedFiles"] == FILES + 1), 240)
    assert stats["indexedBytes"] == _listed_bytes(root) and stats["indexedTokens"] > 100_000
    titles = [value.get("title") for value in client.progress if value["kind"] == "begin"]
    assert titles.count("kvcomplete: indexing the workspace") == 1

    created, deleted = root / "created.py", root / "pkg0" / "module0.py"
    created.write_text("created = True\n")
    deleted.unlink()
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
        types.FileEvent(uri=created.as_uri(), type=types.FileChangeType.Created),
        types.FileEvent(uri=deleted.as_uri(), type=types.FileChangeType.Deleted)]))
    await eventually(lambda: _stats_when(client, lambda stats: (stats["indexedFiles"], stats["indexedBytes"]) == (
        FILES + 1, _listed_bytes(root))))
    assert await client.stop_server() == 0


@pytest.mark.e2e
async def test_watcher_registered_folders_indexed_and_limits_applied(start_server, tiny_options, tmp_path,
                                                                     eventually):
    (tmp_path / "a.py").write_text("alpha = 1\n")
    client = await start_server(None, initialize=False)
    registrations: list[types.Registration] = []

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams) -> None:
        registrations.extend(params.registrations)

    capabilities = types.ClientCapabilities(workspace=types.WorkspaceClientCapabilities(
        did_change_watched_files=types.DidChangeWatchedFilesClientCapabilities(dynamic_registration=True)))
    await client.initialize_async(types.InitializeParams(
        capabilities=capabilities, initialization_options=tiny_options,
        workspace_folders=[types.WorkspaceFolder(uri=tmp_path.as_uri(), name="project")]))
    client.initialized(types.InitializedParams())
    await eventually(lambda: registrations)
    assert [(r.id, r.method) for r in registrations] == [
        ("kvcomplete-watched-files", types.WORKSPACE_DID_CHANGE_WATCHED_FILES)]
    stats = await eventually(lambda: _stats_when(client, lambda stats: stats["indexedFiles"] == 1))
    assert stats["indexedBytes"] == len("alpha = 1\n")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"indexMaxFiles": 0}))
    await eventually(lambda: _stats_when(client, lambda stats: stats["indexedFiles"] == 0))
    assert await client.stop_server() == 0


def _listed_bytes(root: Path) -> int:
    return sum(path.stat().st_size for path in [*root.rglob("*.py"), root / ".gitignore"])


async def _stats_when(client, check) -> dict | None:
    stats = await client.stats()
    return stats if check(stats) else None


def test_folders_are_the_workspace_folders_else_the_root(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    folders = [types.WorkspaceFolder(uri=path.as_uri(), name=path.name) for path in (first, second)]
    params = types.InitializeParams(capabilities=types.ClientCapabilities(), root_uri=tmp_path.as_uri(),
                                    workspace_folders=folders)
    assert folders_of(params) == [first, second]
    params.workspace_folders = None
    assert folders_of(params) == [tmp_path]
    params.root_uri = "untitled:nothing"
    assert folders_of(params) == []
