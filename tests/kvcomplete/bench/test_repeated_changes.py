"""The miner of repeated changes: token-level line changes, the -U0 log parser, and a tiny git history."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from kvcomplete.bench import repeated_changes as miner
from kvcomplete.bench.repeated_changes import Change, ChangedLine


def test_token_edits_are_character_spans_of_the_old_line():
    assert miner.token_edits("f(a)", "f(a, b)") == [(3, 3, ", b")]
    assert miner.token_edits("x = foo(foo)", "x = bar(bar)") == [(4, 7, "bar"), (8, 11, "bar")]
    assert miner.token_edits("same", "same") == []


def test_line_change_is_one_change_repeated_or_none():
    assert miner.line_change("x = foo(foo)", "x = bar(bar)") == Change("foo", "bar")
    assert miner.line_change("f(a)", "f(a, b)") == Change("", ", b", ")")
    assert miner.line_change("import os", "import os, sys") == Change("", ", sys", miner.END_OF_LINE)
    assert miner.line_change("a = b", "c = d") is None  # two different replacements


def test_a_rename_is_the_same_change_on_lines_that_differ_otherwise():
    pairs = [("x = old_name(1)", "x = new_name(1)"), ("    return old_name", "    return new_name")]
    assert miner.repeated_change(pairs) == Change("old_name", "new_name")


@pytest.mark.parametrize("pairs", [
    [("x = old(1)", "x = new(1)")],  # once only
    [("x = old(1)", "x = new(1)"), ("y = a", "y = b")],  # two different changes
    [("f(a,b)", "f(a, b)"), ("g(c,d)", "g(c, d)")],  # only blanks
])
def test_no_repeated_change(pairs):
    assert miner.repeated_change(pairs) is None


def test_parse_log_pairs_hunk_lines_and_flags_hunks_that_change_the_line_count():
    log = "\n".join([
        f"{miner.COMMIT_MARK}abc123 2024-01-02T03:04:05+00:00", "",
        "diff --git a/pkg/m.py b/pkg/m.py", "index 1..2 100644", "--- a/pkg/m.py", "+++ b/pkg/m.py",
        "@@ -3 +3 @@ def f():", "-    old(1)", "+    new(1)",
        "@@ -7,2 +7,2 @@", "-old(2)", "-old(3)", "+new(2)", "\\ No newline at end of file", "+new(3)",
        "diff --git a/n.py b/n.py", "--- a/n.py", "+++ b/n.py",
        "@@ -1 +1,2 @@", "-x", "+y", "+z", ""])
    first, second = miner.parse_log(log)
    assert (first.commit, first.date, first.path, first.paired) == ("abc123", "2024-01-02T03:04:05+00:00",
                                                                    "pkg/m.py", True)
    assert first.lines == [ChangedLine(2, "    old(1)", "    new(1)"), ChangedLine(6, "old(2)", "new(2)"),
                           ChangedLine(7, "old(3)", "new(3)")]
    assert second.path == "n.py" and not second.paired


BEFORE = """import os


def fetch(url):
    data = old_name(url)
    more = old_name(url + "/more")
    send(url)
    send(data)
    return old_name(data), more
"""


def _git(root: Path, *arguments: str, date: str = "2024-01-01T00:00:00+00:00") -> None:
    environment = {**os.environ, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t", *arguments], check=True,
                   env=environment, capture_output=True)


def _commit(root: Path, text: str, date: str) -> None:
    (root / "fetch.py").write_text(text)
    _git(root, "add", "fetch.py")
    _git(root, "commit", "-q", "-m", date, date=date)


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """A rename made on three lines, then an argument added to two calls, then an unrelated edit."""
    _git(tmp_path, "init", "-q")
    _commit(tmp_path, BEFORE, "2024-01-01T00:00:00+00:00")
    renamed = BEFORE.replace("old_name", "new_name")
    _commit(tmp_path, renamed, "2024-01-02T00:00:00+00:00")
    _commit(tmp_path, renamed.replace("send(url)", "send(url, timeout=5)").replace("send(data)", "send(data, timeout=5)"),
            "2024-01-03T00:00:00+00:00")
    _commit(tmp_path, (tmp_path / "fetch.py").read_text().replace("import os", "import os\nimport sys"),
            "2024-01-04T00:00:00+00:00")
    return tmp_path


@pytest.mark.e2e
def test_mine_finds_the_repeated_changes_newest_first(history: Path):
    added, renamed = miner.mine(history)
    assert added.change == Change("", ", timeout=5", ")")
    assert [line.line for line in added.lines] == [6, 7]
    assert added.lines[0] == ChangedLine(6, "    send(url)", "    send(url, timeout=5)")
    assert added.date.startswith("2024-01-03")
    assert renamed.change == Change("old_name", "new_name")
    assert renamed.before == BEFORE
    assert [(line.line, line.new) for line in renamed.lines] == [
        (4, "    data = new_name(url)"), (5, '    more = new_name(url + "/more")'),
        (8, "    return new_name(data), more")]
    assert miner.summary([added, renamed]) == {"cases": 2, "commits": 2, "changed_lines": 5, "insertions": 1}


@pytest.mark.e2e
def test_mine_stops_at_its_bounds(history: Path):
    assert [case.change.old for case in miner.mine(history, max_cases=1)] == [""]
    assert [case.change.old for case in miner.mine(history, max_commits=2)] == [""]  # the two newest: the insertion only
    assert list(miner.mine(history, max_file_bytes=len(BEFORE) - 1)) == []


def test_a_case_needs_the_diff_lines_at_their_numbers_in_a_text_with_lf_line_ends():
    changed = [ChangedLine(1, "b = old", "b = new")]
    assert miner.matches("a\nb = old\n", changed)
    assert not miner.matches("a\nb = new\n", changed) and not miner.matches("a\n", changed)
    assert not miner.matches("a\r\nb = old\r\n", [ChangedLine(1, "b = old\r", "b = new\r")])
