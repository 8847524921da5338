"""The workspace index: files as git lists them, skipped files, limits, and following created / changed / deleted
files; a git binary, where installed, is the reference for the listing."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from kvcomplete.completion.prompt.files import is_listed, list_files, read_text
from kvcomplete.completion.prompt.workspace import Limits, WorkspaceIndex, index_tokenizer

# path -> content; None marks a file that git would not list.
TREE = {
    ".gitignore": "*.log\nbuild/\n!keep.log\n/top_only.py\n",
    ".git/HEAD": None,
    ".git/info/exclude": None,
    "main.py": "import pkg.util\n",
    "keep.log": "kept by a ! pattern\n",
    "debug.log": None,
    "top_only.py": None,
    "build/out.py": None,
    "pkg/.gitignore": "generated_*.py\n!important.log\nlocal/\n",
    "pkg/util.py": "def helper():\n    return 1\n",
    "pkg/generated_a.py": None,
    "pkg/important.log": "re-included below the root's *.log\n",
    "pkg/top_only.py": "anchored patterns match only beside their ignore file\n",
    "pkg/local/x.py": None,
    "pkg/deep/.gitignore": "!generated_keep.py\n",
    "pkg/deep/generated_keep.py": "the deepest ignore file wins\n",
    "pkg/deep/generated_b.py": None,
    "secret.txt": None,
}
EXCLUDE = "secret.txt\n"


def make_tree(root: Path) -> Path:
    for name, content in TREE.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if content is not None else "ignored\n")
    (root / ".git" / "info" / "exclude").write_text(EXCLUDE)
    return root


def listed(root: Path) -> set[str]:
    return {path.relative_to(root).as_posix() for path in list_files(root)}


EXPECTED = {name for name, content in TREE.items() if content is not None}


def test_listing_respects_nested_ignore_files_and_the_exclude_file(tmp_path):
    root = make_tree(tmp_path)
    assert listed(root) == EXPECTED
    for name in TREE:  # the one-file check agrees with the listing
        assert is_listed(root, root / name) == (name in EXPECTED), name


@pytest.mark.e2e  # runs git
@pytest.mark.skipif(shutil.which("git") is None, reason="no git binary to compare with")
def test_listing_equals_git(tmp_path):
    root = make_tree(tmp_path)
    shutil.rmtree(root / ".git")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".git" / "info" / "exclude").write_text(EXCLUDE)
    git = subprocess.run(["git", "-C", str(root), "ls-files", "-co", "--exclude-standard"], check=True,
                         capture_output=True, text=True).stdout.split()
    assert listed(root) == set(git)


def test_read_text_skips_binary_non_utf8_and_large_files(tmp_path):
    (tmp_path / "binary").write_bytes(b"abc\x00def")
    (tmp_path / "latin1").write_bytes("café".encode("latin-1"))
    (tmp_path / "text").write_text("café\n")
    assert read_text(tmp_path / "binary", 100) is None
    assert read_text(tmp_path / "latin1", 100) is None
    assert read_text(tmp_path / "text", 100) == "café\n"
    assert read_text(tmp_path / "text", 5) is None  # 6 bytes
    assert read_text(tmp_path / "missing", 100) is None


def fake_tokenize(text: str) -> list[int]:
    return list(text.encode("utf-8"))


class Recorder:
    """A sink that holds what the drafters would: each piece's tokens by key (URI#n)."""

    def __init__(self, chunk_tokens: int) -> None:
        self.pieces: dict[str, list[int]] = {}
        self.chunk_tokens = chunk_tokens

    def __call__(self, pieces) -> None:
        work = sum(max(len(tokens or ()), len(self.pieces.get(key, ()))) for key, tokens in pieces)
        assert work <= self.chunk_tokens  # a bounded batch: tokens counted in and out
        for key, tokens in pieces:
            if tokens is None:
                del self.pieces[key]
            else:
                self.pieces[key] = list(tokens)

    @property
    def sources(self) -> dict[str, list[int]]:
        """The files' tokens by URI, joined from their pieces (which must be numbered 0, 1, ...)."""
        files: dict[str, dict[int, list[int]]] = {}
        for key, tokens in self.pieces.items():
            uri, number = key.rsplit("#", 1)
            files.setdefault(uri, {})[int(number)] = tokens
        assert all(sorted(pieces) == list(range(len(pieces))) for pieces in files.values())
        return {uri: [t for n in sorted(pieces) for t in pieces[n]] for uri, pieces in files.items()}


def reference(root: Path, limits: Limits, tokenize=fake_tokenize) -> dict[str, list[int]]:
    """What a fresh index of ``root`` gives the drafters: listed text files within the limits, in order."""
    sources, total = {}, 0
    for path in list_files(root):
        text = read_text(path, limits.max_file_bytes)
        if text is None or len(sources) >= limits.max_files or total + path.stat().st_size > limits.max_bytes:
            continue
        sources[path.as_uri()] = tokenize(text)
        total += path.stat().st_size
    return sources


def run_index(root: Path, limits: Limits, chunk_tokens: int = 8192) -> tuple[WorkspaceIndex, Recorder]:
    recorder = Recorder(chunk_tokens)
    index = WorkspaceIndex([root], limits, fake_tokenize, recorder, chunk_tokens=chunk_tokens)
    index.start()
    assert index.wait_idle(10)
    return index, recorder


WIDE = Limits(max_files=100, max_bytes=10_000, max_file_bytes=1_000)


def test_index_skips_binary_and_large_files_and_feeds_the_rest(tmp_path):
    root = make_tree(tmp_path)
    (root / "image.png").write_bytes(b"\x89PNG\x00\x00")
    (root / "big.py").write_text("x = 1\n" * 200)  # 1,200 bytes > max_file_bytes
    index, recorder = run_index(root, WIDE)
    assert recorder.sources == reference(root, WIDE)
    assert set(recorder.sources) == {(root / name).as_uri() for name in EXPECTED}
    assert index.stats() == {"indexedFiles": len(EXPECTED), "indexedTokens": sum(map(len, recorder.sources.values())),
                             "indexedBytes": sum(len(TREE[name].encode()) for name in EXPECTED)}
    index.stop()


@pytest.mark.parametrize("limits", [Limits(3, 10_000, 1_000), Limits(100, 60, 1_000)], ids=["files", "bytes"])
def test_index_stops_at_its_limits(tmp_path, limits):
    root = make_tree(tmp_path)
    index, recorder = run_index(root, limits)
    assert recorder.sources == reference(root, limits)
    assert 0 < len(recorder.sources) < len(EXPECTED)
    index.stop()


def test_index_follows_created_changed_and_deleted_files(tmp_path):
    root = make_tree(tmp_path)
    index, recorder = run_index(root, WIDE, chunk_tokens=4)  # files in several pieces, fewer after a change
    assert max(len(tokens) for tokens in recorder.pieces.values()) == 4
    (root / "new.py").write_text("created = True\n")
    (root / "pkg" / "util.py").write_text("def helper(): pass\n")
    (root / "keep.log").unlink()
    shutil.rmtree(root / "pkg" / "deep")
    (root / "new.log").write_text("ignored: *.log\n")
    for name in ("new.py", "pkg/util.py", "keep.log", "pkg/deep", "new.log"):
        index.update(root / name)
    assert index.wait_idle(10)
    assert recorder.sources == reference(root, WIDE)

    (root / ".gitignore").write_text("*.py\n")  # a changed ignore file lists everything again
    index.update(root / ".gitignore")
    assert index.wait_idle(10)
    assert recorder.sources == reference(root, WIDE)
    assert (root / "new.py").as_uri() not in recorder.sources
    index.stop()


def test_reset_replaces_everything_handed_on(tmp_path):
    root = make_tree(tmp_path)
    index, recorder = run_index(root, WIDE, chunk_tokens=4)
    smaller = Limits(max_files=3, max_bytes=10_000, max_file_bytes=1_000)

    def other_model(text: str) -> list[int]:
        return [byte + 1000 for byte in text.encode("utf-8")]

    index.reset(smaller, other_model)
    assert index.wait_idle(10)
    assert recorder.sources == reference(root, smaller, other_model)
    index.reset(Limits(0, 0, 0), other_model)  # indexMaxFiles 0: nothing stays with the drafters
    assert index.wait_idle(10)
    assert recorder.pieces == {} and index.stats()["indexedFiles"] == 0
    index.stop()


def test_index_tokenizer_equals_the_vocabulary(vocab):
    text = 'def f(x):\n    return x  # <|endoftext|> stays text, é\n'
    assert index_tokenizer(vocab.tokenizer)(text) == vocab.encode(text)
