"""The next-edits benchmark: scoring, naive baseline, first edit and outputs on hand-made cases; one replay."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from kvcomplete.bench import next_edits
from kvcomplete.bench.next_edits import (
    MAX_PROPOSALS,
    applied,
    baseline,
    made_line,
    make_first_change,
    markdown,
    naive_proposals,
    offset_of,
    percentiles,
    plot,
    replay,
    scored,
    totals,
)
from kvcomplete.bench.repeated_changes import Case, Change, ChangedLine
from kvcomplete.cli import main as cli_main
from kvcomplete.completion.config import Settings
from kvcomplete.demo.lsp_client import Editor

TEXT = "a = old(1)\nb = 2\nc = old(old)\nd = '😋' + old\n"
LATER = [ChangedLine(2, "c = old(old)", "c = new(new)"), ChangedLine(3, "d = '😋' + old", "d = '😋' + new")]


def edit(line: int, start: int, end: int, old_text: str, new_text: str) -> dict:
    return {"range": {"start": {"line": line, "character": start}, "end": {"line": line, "character": end}},
            "oldText": old_text, "newText": new_text, "score": 0.5}


def test_offsets_count_utf16_units():
    assert offset_of(TEXT, {"line": 3, "character": 11}) == TEXT.index("old", TEXT.index("😋"))  # 😋: 2 units
    assert offset_of(TEXT, {"line": 3, "character": 6}) is None  # inside the emoji's surrogate pair
    assert offset_of(TEXT, {"line": 9, "character": 0}) is None


def test_an_edit_applies_only_where_its_old_text_is():
    assert applied(TEXT, edit(1, 4, 5, "2", "3")) == TEXT.replace("b = 2", "b = 3")
    assert applied(TEXT, edit(1, 4, 5, "9", "3")) is None


def test_a_proposal_is_correct_when_it_makes_a_later_line_whole():
    assert made_line(TEXT, edit(2, 4, 12, "old(old)", "new(new)"), LATER) == 2
    assert made_line(TEXT, edit(3, 11, 14, "old", "new"), LATER) == 3
    assert made_line(TEXT, edit(2, 4, 7, "old", "new"), LATER) is None  # half of the line's change
    assert made_line(TEXT, edit(0, 4, 7, "old", "new"), LATER) is None  # not a changed line of the commit
    two_lines = {"range": {"start": {"line": 2, "character": 4}, "end": {"line": 3, "character": 14}},
                 "oldText": "old(old)\nd = '😋' + old", "newText": "new(new)\nd = '😋' + new"}
    assert made_line(TEXT, two_lines, LATER) is None  # changes two lines at once


def test_scores_count_correct_proposals_and_found_lines():
    proposals = [edit(2, 4, 12, "old(old)", "new(new)"), edit(2, 4, 12, "old(old)", "new(new)"),
                 edit(0, 4, 7, "old", "new")]
    result = scored(TEXT, proposals, LATER)
    assert result == {"proposals": 3, "correct": 2, "found": [2], "expected": 2}
    empty = scored(TEXT, [], LATER)
    assert totals([result, empty]) == {"sets": 2, "sets_with_proposals": 1, "proposals_per_set": 1.5,
                                       "precision": 0.667, "recall": 0.25, "recall_ceiling": 1.0,
                                       "later_lines": 4}


def test_the_naive_baseline_replaces_the_removed_text_on_every_other_line():
    proposals = naive_proposals(TEXT, Change("old", "new"), cursor_line=0)
    assert [proposal["range"]["start"]["line"] for proposal in proposals] == [2, 3]
    assert [applied(TEXT, proposal) is not None for proposal in proposals] == [True, True]
    assert scored(TEXT, proposals, LATER)["found"] == [2, 3]
    assert naive_proposals(TEXT, Change("", ", x", ")"), cursor_line=0) == []  # an insertion: nowhere to find


def test_the_naive_baseline_keeps_the_nearest_lines():
    text = "\n".join(f"x{number} = old" for number in range(30))
    lines = [proposal["range"]["start"]["line"] for proposal in naive_proposals(text, Change("old", "new"), 20)]
    assert len(lines) == MAX_PROPOSALS and set(lines) == {15, 16, 17, 18, 19, 21, 22, 23, 24, 25}


def test_baseline_scores_a_case_after_its_first_change():
    case = Case("c0ffee", "2024-01-01T00:00:00+00:00", "m.py", TEXT, Change("old", "new"),
                (ChangedLine(0, "a = old(1)", "a = new(1)"), *LATER))
    assert baseline(case) == {"proposals": 2, "correct": 2, "found": [2, 3], "expected": 2}


class RecordingClient:
    """Stands for LspClient under Editor: keeps the didChanges."""

    def __init__(self) -> None:
        self.changes: list = []

    def open(self, uri: str, text: str) -> None:
        pass

    def change(self, uri: str, version: int, changes: list) -> None:
        self.changes += changes


@pytest.mark.parametrize("typing, didchanges", [(False, 2), (True, 2 + len("new") * 2)])
def test_the_first_change_is_made_as_the_commit_made_it(typing, didchanges):
    client = RecordingClient()
    editor = Editor(client, "file:///m.py", TEXT)
    make_first_change(editor, LATER[0], typing)
    assert editor.text == TEXT.replace("c = old(old)", "c = new(new)")
    assert len(client.changes) == didchanges
    assert editor.position().line == 2 and editor.position().character == len("c = new(new")


def test_percentiles_skip_missing_times():
    assert percentiles([None, 30.0, 10.0, 20.0]) == {"n": 3, "p50": 20.0, "p95": 30.0, "max": 30.0}
    assert percentiles([None]) == {"n": 0, "p50": None, "p95": None, "max": None}
    assert percentiles([float(n) for n in range(1, 101)])["p95"] == 95.0


def test_outputs_show_every_proposer_and_case(tmp_path: Path):
    scores = {"proposals": 1, "correct": 1, "found": [2], "expected": 2}
    result = {"repo": "/r", "head": "0123456789ab",
              "mining": {"max_commits": 9, "max_cases": 5, "cases": 1, "commits": 1, "changed_lines": 3,
                         "insertions": 0},
              "cases": [{"case": "0123456789:m.py", "date": "2024-01-01", "change": "'old' → 'new'", "lines": 3,
                         "baseline": scores, "request": scores, "ready": scores, "first_proposals_ms": 12.5}],
              "summary": [{"proposer": name, **totals([scores])} for name in ("server", "naive baseline")],
              "latency_ms": [{"from the didChange to": "the first proposals", **percentiles([12.5])}],
              "server_stats": {"nextEditsProposed": 1}}
    text = markdown(result)
    assert "| naive baseline | 1 | 1 | 1 | 1 | 0.5 | 1 | 2 |" in text and "| 0123456789:m.py |" in text
    assert "| the first proposals | 1 | 12.5 | 12.5 | 12.5 |" in text and '{"nextEditsProposed": 1}' in text
    plot(result, tmp_path / "next-edits.png")
    assert (tmp_path / "next-edits.png").read_bytes().startswith(b"\x89PNG")
    json.dumps(result)


def test_the_command_asks_for_a_repository(capsys):
    assert cli_main(["bench", "next-edits", "--baseline-only"]) == 2
    assert "--repo" in capsys.readouterr().err


@pytest.mark.e2e
def test_a_baseline_run_writes_its_outputs(tmp_path: Path, capsys):
    from tests.kvcomplete.bench.test_repeated_changes import _commit, _git

    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    _commit(repo, "x = old(1)\ny = old(2)\nz = old(3)\n", "2024-01-01T00:00:00+00:00")
    _commit(repo, "x = new(1)\ny = new(2)\nz = new(3)\n", "2024-01-02T00:00:00+00:00")
    assert cli_main(["bench", "next-edits", "--repo", str(repo), "--baseline-only", "--json",
                     "--out", str(tmp_path / "out")]) == 0
    report = json.loads((tmp_path / "out" / "next-edits.json").read_text())
    assert report["next_edits"]["summary"] == [{"proposer": "naive baseline", "sets": 1, "sets_with_proposals": 1,
                                                "proposals_per_set": 2.0, "precision": 1.0, "recall": 1.0,
                                                "recall_ceiling": 1.0, "later_lines": 2}]
    assert json.loads(capsys.readouterr().out)["command"].startswith("kvcomplete ")
    assert {path.name for path in (tmp_path / "out").iterdir()} == {"next-edits.json", "next-edits.md",
                                                                     "next-edits.png"}


@pytest.mark.e2e
def test_the_replay_scores_what_the_real_server_proposes(tiny_model_dir):
    """A rename through a real server on the tiny model, every candidate proposed (no threshold): the request
    gets the other two places of the old name; the first set announced holds one of them or both."""
    before = "def fetch(url):\n    data = old_name(url)\n    more = old_name(url + 1)\n    return old_name(data)\n"
    lines = tuple(ChangedLine(number, line, line.replace("old_name", "new_name"))
                  for number, line in enumerate(before.split("\n")) if "old_name" in line)
    case = Case("0" * 40, "2024-01-01T00:00:00+00:00", "m.py", before, Change("old_name", "new_name"), lines)
    settings = Settings(model=str(tiny_model_dir), device="cpu", next_edits_threshold=-1e9)
    (result,), stats = asyncio.run(replay(settings, [case], typing=True))
    assert stats["model"]["model"] == tiny_model_dir.name and stats["nextEditsRequests"] == 1
    assert result["request"] == {"proposals": 2, "correct": 2, "found": [2, 3], "expected": 2}
    first = result["ready"]  # announced after the first scoring step: one place or both
    assert first["correct"] == first["proposals"] == len(first["found"]) >= 1 and set(first["found"]) <= {2, 3}
    assert 0 < result["first_proposals_ms"] == result["ready_ms"] and result["request_ms"] > 0
    assert result["cursor_request_ms"] > 0  # ghost text was asked where the change begins, before the edit


def test_the_command_passes_its_options(monkeypatch):
    calls = []
    monkeypatch.setattr(next_edits, "main", lambda *args, **options: calls.append((args[1:], options)) or 0)
    assert cli_main(["bench", "next-edits", "--repo", "r", "--max-cases", "3", "--typing", "--out", "x"]) == 0
    assert calls == [((Path("r"), 2000, 3, False, True), {"as_json": False, "out": Path("x"), "note": None})]
