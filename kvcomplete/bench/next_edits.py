"""`kvcomplete bench next-edits`: does the server propose the rest of a repeated change, and how soon?

The cases are real commits that made one small change on several lines of a file (repeated_changes.py). Each
goes through a fresh document of one ``kvcomplete serve``: the file as it was before the commit is opened and
read for READING_PAUSE_S; then (``ask_at_edit``, the default) the user enters insert mode where the first
change begins and the editor asks for ghost text there (the Neovim client asks on InsertEnter; that request's
time is reported on its own, not as part of the edit's); then the first changed line is edited as the commit
did (one didChange per changed stretch, or key by key with ``typing``), the client waits for the first
``kvcomplete/nextEditsReady`` of that version (up to READY_TIMEOUT_S), then while the announced set still grows
(until none came for SETTLE_QUIET_S, at most SETTLE_TIMEOUT_S after the edit), and asks
``kvcomplete/nextEdits`` at the cursor: the set the editor shows first, and the set the next-edit key gets
once the background has scored the places. A proposal is correct when applying it to the document makes
exactly one of the commit's later changed lines, whole, and changes nothing else. Precision: correct
proposals / proposals; recall: later lines some proposal makes / later lines (a set holds at most
MAX_PROPOSALS: ``recall_ceiling`` is what that allows). The naive baseline replaces the removed text wherever
it occurs (it cannot place an insertion), on the same cases.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import torch
from lsprotocol import types

from kvcomplete.bench import plots
from kvcomplete.bench.repeated_changes import Case, Change, ChangedLine, git, mine, summary, token_edits
from kvcomplete.bench.report import header_markdown, machine, table
from kvcomplete.completion.config import Settings
from kvcomplete.completion.stats import percentile
from kvcomplete.demo.lsp_client import Editor, LspClient, plain, units
from kvcomplete.demo.server import served, wait_for_model
from kvcomplete.lsp_server.next_edits import NEXT_EDITS, NEXT_EDITS_READY

MAX_PROPOSALS = 10  # the protocol's limit per set; the baseline keeps as many, nearest the cursor first
READY_TIMEOUT_S = 5.0
SETTLE_QUIET_S = 1.5  # after the first set, the request waits until no new set came for this long
SETTLE_TIMEOUT_S = 15.0  # or this long after the edit
READING_PAUSE_S = 1.0  # before the edit: the server's idle work encodes the file, as while the user reads it
ENCODING = "utf-16"  # the positions' encoding (the client's default)


def offset_of(text: str, position: dict) -> int | None:
    """The character offset of an LSP position in ``text`` (ENCODING units), None when it is not in the text."""
    lines = text.split("\n")
    if not 0 <= position["line"] < len(lines):
        return None
    line, column, counted = lines[position["line"]], 0, 0
    while counted < position["character"] and column < len(line):
        counted += units(line[column], ENCODING)
        column += 1
    if counted != position["character"]:
        return None
    return sum(len(earlier) + 1 for earlier in lines[: position["line"]]) + column


def applied(text: str, edit: dict) -> str | None:
    """``text`` with ``edit`` made, or None when its range is not in the text or no longer holds its oldText."""
    start, end = offset_of(text, edit["range"]["start"]), offset_of(text, edit["range"]["end"])
    if start is None or end is None or start > end or text[start:end] != edit["oldText"]:
        return None
    return text[:start] + edit["newText"] + text[end:]


def made_line(text: str, edit: dict, expected: list[ChangedLine]) -> int | None:
    """The expected line that ``edit`` makes exactly (the one line it changes becomes that line's new text)."""
    result = applied(text, edit)
    if result is None:
        return None
    before, after = text.split("\n"), result.split("\n")
    changed = [number for number, (old, new) in enumerate(zip(before, after)) if old != new]
    if len(before) != len(after) or len(changed) != 1:
        return None
    return next((line.line for line in expected if line.line == changed[0] and line.new == after[line.line]), None)


def scored(text: str, edits: list[dict], expected: list[ChangedLine]) -> dict:
    """How many of ``edits`` are correct and which expected lines they make."""
    made = [made_line(text, edit, expected) for edit in edits]
    return {"proposals": len(edits), "correct": sum(line is not None for line in made),
            "found": sorted({line for line in made if line is not None}), "expected": len(expected)}


def naive_proposals(text: str, change: Change, cursor_line: int) -> list[dict]:
    """The naive baseline: on each line holding ``change.old``, replace every occurrence by ``change.new``
    (one proposal per line, nearest the cursor first, at most MAX_PROPOSALS); none for an insertion."""
    if not change.old:
        return []
    found = []
    for number, line in enumerate(text.split("\n")):
        if number != cursor_line and change.old in line:
            start, end = line.index(change.old), line.rindex(change.old) + len(change.old)
            found.append({"range": {"start": _position(line, number, start), "end": _position(line, number, end)},
                          "oldText": line[start:end], "newText": line[start:end].replace(change.old, change.new),
                          "score": 1.0})
    found.sort(key=lambda edit: abs(edit["range"]["start"]["line"] - cursor_line))
    return found[:MAX_PROPOSALS]


def _position(line: str, number: int, column: int) -> dict:
    return {"line": number, "character": sum(units(char, ENCODING) for char in line[:column])}


def make_first_change(editor: Editor, first: ChangedLine, typing: bool) -> None:
    """Edit the first changed line as the commit did: each changed stretch replaced in one didChange, or (typing)
    deleted in one and its new text typed key by key; left to right, the cursor after the last stretch."""
    line_start = sum(len(line) + 1 for line in editor.text.split("\n")[: first.line])
    shift = 0
    for start, end, text in token_edits(first.old, first.new):
        at = line_start + start + shift
        if typing:
            editor.replace(at, at + end - start, "")
            editor.type(text)
        else:
            editor.replace(at, at + end - start, text)
        shift += len(text) - (end - start)


class ReadySets:
    """The ``kvcomplete/nextEditsReady`` sets the server sent, by (uri, version), in order, with when they arrived
    (a set is announced again whenever it grows)."""

    def __init__(self, client: LspClient) -> None:
        self.arrived: dict[tuple[str, int], list[tuple[float, dict]]] = {}
        self.changed = asyncio.Event()

        @client.feature(NEXT_EDITS_READY)
        def next_edits_ready(params) -> None:
            ready = plain(params)
            self.arrived.setdefault((ready["uri"], ready["version"]), []).append((time.perf_counter(), ready))
            self.changed.set()

    async def first(self, uri: str, version: int, timeout_s: float) -> tuple[float, dict] | None:
        """The first set announced for this version of the document, waited for up to ``timeout_s``."""
        deadline = time.perf_counter() + timeout_s
        while (uri, version) not in self.arrived and (left := deadline - time.perf_counter()) > 0:
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except asyncio.TimeoutError:
                break
        return next(iter(self.arrived.get((uri, version), [])), None)

    async def settled(self, uri: str, version: int, quiet_s: float, until: float) -> None:
        """Wait until no new set of this version arrived for ``quiet_s``, or until perf_counter() ``until``."""
        while (left := until - time.perf_counter()) > 0:
            sets = self.arrived.get((uri, version), [])
            last = sets[-1][0] if sets else time.perf_counter()
            if time.perf_counter() - last >= quiet_s:
                return
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), min(left, quiet_s))
            except asyncio.TimeoutError:
                pass


async def replay_case(client: LspClient, ready: ReadySets, number: int, case: Case, typing: bool,
                      ask_at_edit: bool) -> dict:
    """One case in a fresh document: (``ask_at_edit``) ghost text asked where the change begins, the first change
    made, then the ready set and the answer at the cursor."""
    uri = f"file:///next-edits/{number}/{Path(case.path).name}"
    editor = Editor(client, uri, case.before, ENCODING)
    await wait_for_model(client, uri)
    await asyncio.sleep(READING_PAUSE_S)
    cursor_ms = await ask_where_the_change_begins(client, editor, case.lines[0]) if ask_at_edit else None
    make_first_change(editor, case.lines[0], typing)
    changed_at = time.perf_counter()
    arrived = await ready.first(uri, editor.version, READY_TIMEOUT_S)
    if arrived:  # the set grows as the background scores more places: ask once it stopped growing
        await ready.settled(uri, editor.version, SETTLE_QUIET_S, changed_at + SETTLE_TIMEOUT_S)
    position = editor.position()
    asked_at = time.perf_counter()
    answer = plain(await client.custom(NEXT_EDITS, {"textDocument": {"uri": uri},
                                                    "position": {"line": position.line,
                                                                 "character": position.character}}))
    answered_at = time.perf_counter()
    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    later = list(case.lines[1:])
    ready_edits = arrived[1]["edits"] if arrived else []
    answer_edits = (answer or {}).get("edits") or []
    firsts = ([arrived[0]] if ready_edits else []) + ([answered_at] if answer_edits else [])
    return {"cursor_request_ms": cursor_ms, "ready_ms": _ms(arrived[0] - changed_at) if arrived else None,
            "request_ms": _ms(answered_at - asked_at),
            "first_proposals_ms": _ms(min(firsts) - changed_at) if firsts else None,
            "ready": scored(editor.text, ready_edits, later), "request": scored(editor.text, answer_edits, later)}


async def ask_where_the_change_begins(client: LspClient, editor: Editor, first: ChangedLine) -> float:
    """Ask for ghost text where the first changed stretch begins, as the editor does when the user enters insert
    mode there; the request's time in ms."""
    line_start = sum(len(line) + 1 for line in editor.text.split("\n")[: first.line])
    started = time.perf_counter()
    await client.inline(editor.uri, editor.position(line_start + token_edits(first.old, first.new)[0][0]))
    return _ms(time.perf_counter() - started)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


async def replay(settings: Settings, cases: list[Case], typing: bool,
                 ask_at_edit: bool = True) -> tuple[list[dict], dict]:
    """Every case through one fresh server; the per-case results and the server's stats (its model too)."""
    async with served(settings, ENCODING) as client:
        ready = ReadySets(client)
        results = [await replay_case(client, ready, number, case, typing, ask_at_edit)
                   for number, case in enumerate(cases)]
        stats = await client.stats()
    return results, stats


def baseline(case: Case) -> dict:
    """The naive baseline's score on ``case``, after the same first change."""
    first, lines = case.lines[0], case.before.split("\n")
    lines[first.line] = first.new
    text = "\n".join(lines)
    return scored(text, naive_proposals(text, case.change, first.line), list(case.lines[1:]))


def totals(scores: list[dict]) -> dict:
    """Precision, recall and proposals per set over ``scores`` (None where nothing was proposed or expected)."""
    proposals, correct = sum(s["proposals"] for s in scores), sum(s["correct"] for s in scores)
    expected, found = sum(s["expected"] for s in scores), sum(len(s["found"]) for s in scores)
    reachable = sum(min(s["expected"], MAX_PROPOSALS) for s in scores)
    return {"sets": len(scores), "sets_with_proposals": sum(s["proposals"] > 0 for s in scores),
            "proposals_per_set": round(proposals / len(scores), 2) if scores else None,
            "precision": round(correct / proposals, 3) if proposals else None,
            "recall": round(found / expected, 3) if expected else None,
            "recall_ceiling": round(reachable / expected, 3) if expected else None, "later_lines": expected}


def percentiles(values: list[float | None]) -> dict:
    """n / p50 / p95 (nearest rank, as the server's stats) / max of the values that are not None."""
    kept = [value for value in values if value is not None]
    return {"n": len(kept), **{name: percentile(kept, fraction) if kept else None
                               for name, fraction in (("p50", 0.5), ("p95", 0.95), ("max", 1.0))}}


def run(settings: Settings, repo: Path, max_commits: int, max_cases: int, with_server: bool,
        typing: bool, ask_at_edit: bool = True) -> tuple[dict, dict | None]:
    """The mined cases scored for the baseline and (``with_server``) the server; the result and the server's model."""
    cases = list(mine(repo, max_commits, max_cases))
    result = {"repo": str(repo.resolve()), "head": git(repo, "rev-parse", "HEAD").decode().strip(),
              "mining": {"max_commits": max_commits, "max_cases": max_cases, **summary(cases)},
              "cases": [{"case": case.name, "date": case.date[:10], "change": str(case.change),
                         "lines": len(case.lines), "baseline": baseline(case)} for case in cases]}
    rows = [{"proposer": "naive baseline", **totals([row["baseline"] for row in result["cases"]])}]
    model = None
    if with_server:
        replayed, stats = asyncio.run(replay(settings, cases, typing, ask_at_edit))
        result["ask_at_edit"] = ask_at_edit
        model = stats["model"]
        result["server_stats"] = {name: value for name, value in stats.items() if name.startswith("nextEdits")}
        for row, outcome in zip(result["cases"], replayed):
            row.update(outcome)
        rows = [{"proposer": "server: nextEdits request", **totals([row["request"] for row in replayed])},
                {"proposer": "server: first nextEditsReady", **totals([row["ready"] for row in replayed])}, *rows]
        result["latency_ms"] = [{"from the didChange to": name, **percentiles([row[key] for row in replayed])}
                                for name, key in LATENCIES.items()]
    result["summary"] = rows
    return result, model


LATENCIES = {"the first proposals": "first_proposals_ms", "nextEditsReady": "ready_ms",
             "(from the request) its answer": "request_ms",
             "(before the edit) the ghost text asked at the edit's place": "cursor_request_ms"}


def markdown(result: dict) -> str:
    mining = result["mining"]
    found = (f"Repository {result['repo']} at {result['head'][:10]}: {mining['cases']} cases ({mining['insertions']} "
             f"insertions) in {mining['commits']} commits, {mining['changed_lines']} changed lines, from the newest "
             f"{mining['max_commits']} commits that modify a Python file (at most {mining['max_cases']} cases).\n")
    parts = [found, table(result["summary"])]
    if "latency_ms" in result:
        parts += [table(result["latency_ms"]), f"The server's stats: {json.dumps(result['server_stats'])}\n"]
    cases = [{"case": row["case"], "date": row["date"], "change": row["change"], "later lines": row["lines"] - 1,
              "baseline found": len(row["baseline"]["found"]),
              "server found": len(row["request"]["found"]) if "request" in row else None,
              "server proposals": row["request"]["proposals"] if "request" in row else None,
              "first proposals ms": row.get("first_proposals_ms")} for row in result["cases"]]
    return "\n".join(parts) + "\n### Per case\n\n" + table(cases)


def plot(result: dict, path: Path) -> None:
    """Precision and recall per proposer; the distribution of the time to the first proposals."""
    pyplot = plots._pyplot()  # matplotlib without a display, as every suite's plot
    figure, (scores, latency) = pyplot.subplots(1, 2, figsize=(12, 4))
    try:
        names = [row["proposer"] for row in result["summary"]]
        for number, key in enumerate(("precision", "recall")):
            scores.bar([index + (number - 0.5) * 0.4 for index in range(len(names))],
                       [row[key] or 0 for row in result["summary"]], 0.4, label=key)
        scores.set_xticks(range(len(names)), names, fontsize=8)
        scores.set_ylim(0, 1)
        scores.legend()
        times = [row["first_proposals_ms"] for row in result["cases"] if row.get("first_proposals_ms") is not None]
        latency.hist(times or [0], bins=20)
        latency.set_xlabel("didChange → first proposals (ms)" if times else "(no server run)")
        latency.set_ylabel("cases")
        figure.suptitle("Next edits on repeated changes from git history")
        figure.tight_layout()
        figure.savefig(path, dpi=100)
    finally:
        pyplot.close(figure)


def main(settings: Settings, repo: Path, max_commits: int = 2000, max_cases: int = 100, baseline_only: bool = False,
         typing: bool = False, as_json: bool = False, out: Path = Path("docs/benchmarks"),
         note: str | None = None, ask_at_edit: bool = True) -> int:
    """Measure, write ``<out>/next-edits.json|.md|.png``, print the Markdown (or the JSON)."""
    if not (repo / ".git").exists() and not (repo / "HEAD").exists():
        raise ValueError(f"--repo {repo} is not a git repository")
    started = time.perf_counter()
    result, model = run(settings, repo, max_commits, max_cases, not baseline_only, typing, ask_at_edit)
    model = model or {"model": "none (naive baseline only)", "device": "cpu", "dtype": "–"}
    report = {"name": "next-edits", "model": model["model"], "device": model["device"], "dtype": model["dtype"],
              "machine": machine(torch.device(model["device"])), "date": time.strftime("%Y-%m-%d %H:%M %Z"),
              "command": "kvcomplete " + " ".join(sys.argv[1:]), "note": note,
              "seconds": round(time.perf_counter() - started, 1), "next_edits": result}
    text = f"# kvcomplete bench next-edits\n\n{header_markdown(report)}\n{markdown(result)}"
    out.mkdir(parents=True, exist_ok=True)
    (out / "next-edits.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "next-edits.md").write_text(text)
    plot(result, out / "next-edits.png")
    print(json.dumps(report, indent=2) if as_json else text)
    return 0
