"""What the demo shows: the file around the cursor with the ghost text, each request, and what the cache did.

``LiveView`` redraws a terminal screen with rich (a TTY); ``PlainView`` prints one line per event, for
logs and pipes. Both read the replay's state and are told about events by it (``replay.Observer``).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Callable, TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from kvcomplete.demo.figures import PAUSE_S

if TYPE_CHECKING:
    from kvcomplete.demo.replay import Replay, Request

WINDOW_LINES = 13  # lines of the file shown around the cursor
RECENT_REQUESTS = 7
GHOST_STYLE = "dim italic"
CURSOR = "▏"
REDRAW_S = 0.1  # the live screen is redrawn at most ten times a second


def describe_cache(cache: dict | None) -> str:
    """The engine's work between two answers, in words."""
    if cache is None:
        return ""
    parts = []
    if cache["fullEncodes"]:
        parts.append(f"full encode ×{cache['fullEncodes']}")
    if cache["pieUpdates"]:
        parts.append(f"PIE update ×{cache['pieUpdates']}")
    parts.append(f"{cache['tokensEncoded']} tokens encoded")
    if cache["draftTokensProposed"]:
        parts.append(f"drafts {cache['draftTokensAccepted']}/{cache['draftTokensProposed']} accepted")
    return ", ".join(parts)


def describe_result(request: Request) -> str:
    if request.outcome == "answered":
        kind = "type-along" if request.type_along else "decoded"
        if request.refresh:
            kind += ", asked again on suggestionsChanged"
        count = len(request.items)
        return f"{count} suggestion{'' if count == 1 else 's'} ({kind})" if count else "no suggestion"
    return {"cancelled": "cancelled (typing went on)", "stale": "stale (the text moved on)",
            "failed": f"failed: {request.error}"}.get(request.outcome, request.outcome)


def one_line(suggestion: str, width: int = 90) -> str:
    """A suggestion on one line: line breaks shown as ⏎, cut at ``width`` characters."""
    flat = suggestion.replace("\n", "⏎")
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def trigger_label(trigger: str) -> str:
    """The key a request fired after, as a keyboard names it (a line break carries the editor's indentation)."""
    if trigger in ("Tab", "move", "delete line"):
        return trigger
    if trigger.startswith("\n"):
        return "Enter"
    return {"\b": "Backspace", " ": "Space"}.get(trigger, "indent" if trigger.isspace() else repr(trigger))


def ghost_at_cursor(replay: Replay) -> str:
    ghost, editor = replay.ghost, replay.editor
    if ghost is None or (ghost.offset, ghost.version) != (editor.cursor, editor.version):
        return ""
    return ghost.text


def describe_percentiles(values: dict) -> str:
    """``percentiles``' p50/p95 in words; "none" when there were no values."""
    if not values["n"]:
        return "none"
    return f"p50 {values['p50']:.0f} ms, p95 {values['p95']:.0f} ms (n={values['n']})"


def summary_lines(summary: dict) -> list[str]:
    """The closing summary: requests, latency, what the engine did, and whether the server's copy matches."""
    latency, stats = summary["keystroke_to_result_ms"], summary["server_stats"]
    sync = summary["in_sync"]
    return [
        f"{summary['edits']} edits (keys, Tabs, line deletions), {len(summary['accepted'])} accepted with Tab, "
        f"in {summary['wall_s']:.1f} s (server ready after {summary['ready_s']:.1f} s)",
        f"requests: {summary['requests']} sent, {summary['answered']} answered "
        f"({summary['type_along']} by type-along), {summary['cancelled']} cancelled, {summary['stale']} stale",
        f"keystroke to result (debounce {summary['debounce_ms']:.0f} ms included): p50 {latency['p50']:.0f} ms, "
        f"p95 {latency['p95']:.0f} ms over {latency['n']} answers",
        f"keystroke to first ghost text: {describe_percentiles(summary['keystroke_to_first_ghost_ms'])}; "
        f"after a Tab: {describe_percentiles(summary['after_tab_first_ghost_ms'])}",
        f"ghost text on screen in {summary['pauses_with_ghost']} of {summary['pauses']} typing pauses of "
        f"{PAUSE_S} s or more; {summary['refreshes']} re-requests on {summary['notifications']} "
        f"suggestionsChanged ({summary['stale_notifications']} stale, ignored)",
        f"engine: full encodes {stats['fullEncodes']}, PIE updates {stats['pieUpdates']}, tokens encoded "
        f"{stats['tokensEncoded']}, drafts accepted {stats['draftTokensAccepted']}/{stats['draftTokensProposed']}, "
        f"accepts recorded {stats['accepts']}",
        f"server's copy of the file equals the replay's: {'yes' if sync else 'NO'}",
    ]


def _window(text: str, cursor: int, ghost: str) -> Text:
    """WINDOW_LINES lines around the cursor's, highlighted, with the cursor mark and ghost text inserted."""
    lines = text.split("\n")
    cursor_line = text.count("\n", 0, cursor)
    column = cursor - (text.rfind("\n", 0, cursor) + 1)
    line = lines[cursor_line]
    opened = (line[:column] + CURSOR + ghost + line[column:]).split("\n")  # the ghost may add lines
    lines[cursor_line: cursor_line + 1] = opened
    first = max(0, min(cursor_line - WINDOW_LINES // 2, len(lines) - WINDOW_LINES))
    shown = lines[first: first + WINDOW_LINES]
    snippet = "\n".join(shown)
    highlighted = Syntax(snippet, "python", theme="ansi_dark").highlight(snippet)
    if len(highlighted) > len(snippet):  # the highlighter ends the code with a line break of its own
        highlighted.right_crop(len(highlighted) - len(snippet))
    at = sum(len(shown_line) + 1 for shown_line in shown[: cursor_line - first]) + column
    highlighted.stylize("bold bright_cyan", at, at + 1)
    highlighted.stylize(GHOST_STYLE, at + 1, at + 1 + len(ghost))
    added = len(opened) - 1
    window = Text(no_wrap=True, overflow="ellipsis")
    for index, shown_line in enumerate(highlighted.split("\n", allow_blank=True), first):
        in_ghost = cursor_line < index <= cursor_line + added  # lines the ghost text adds have no number
        number = "" if in_ghost else str(index + 1 - (added if index > cursor_line else 0))
        window.append(f"{number:>4} │ ", style="dim")
        window.append_text(shown_line)
        window.append("\n")
    window.rstrip()
    return window


class PlainView:
    """One line per event on ``stream``; the ghost text of each shown answer between ‹ and ›."""

    def __init__(self, replay_title: str, stream: TextIO) -> None:
        self.title, self.stream = replay_title, stream
        self.replay: Replay | None = None

    def __enter__(self) -> PlainView:
        self._print(self.title)
        return self

    def __exit__(self, *exc) -> None:
        self.stream.flush()

    def status(self, message: str) -> None:
        self._print(message)

    def started(self, replay: Replay) -> None:
        self.replay = replay

    def step(self, number: int, total: int, caption: str) -> None:
        self._print(f"\n[{number}/{total}] {caption}")

    def edited(self, what: str) -> None:
        """Keys are shown with the requests they trigger, once those finish."""

    def sent_request(self, request: Request) -> None:
        """Shown once it finishes."""

    def finished_request(self, request: Request) -> None:
        self._print(f"  #{request.number} {request.line}:{request.column} after {trigger_label(request.trigger)}: "
                    f"{describe_result(request)} in {request.latency_ms:.0f} ms")
        if request.outcome == "answered" and request.items:
            line_start = self.replay.editor.text.rfind("\n", 0, request.offset) + 1
            self._print(f"      {request.line:>3} | {self.replay.editor.text[line_start:request.offset]}"
                        f"‹{one_line(request.items[0])}›")

    def cache_known(self, request: Request) -> None:
        self._print(f"      #{request.number} engine: {describe_cache(request.cache)}")

    def accepted(self, text: str) -> None:
        self._print(f"  Tab: accepted ‹{one_line(text)}›")

    def finished(self, summary: dict) -> None:
        self._print("")
        for line in summary_lines(summary):
            self._print(line)

    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)


class LiveView:
    """A redrawn screen: the file around the cursor with ghost text, the latest requests, running counts."""

    def __init__(self, replay_title: str, console: Console, clock: Callable[[], float] = time.monotonic,
                 call_later: Callable[..., asyncio.TimerHandle] | None = None) -> None:
        """``clock`` and ``call_later`` (by default the running loop's) time the redraws: tests pass a fake clock's."""
        self.title, self.console = replay_title, console
        self._clock, self._call_later = clock, call_later
        self.replay: Replay | None = None
        self._caption = "starting"
        self._status = ""
        self._drawn_at = 0.0
        self._pending: asyncio.TimerHandle | None = None
        self._window_key: tuple | None = None
        self._window_text = Text()
        # Redrawn on events, REDRAW_S apart at most: nothing to redraw while the model works, and the CPU is
        # the model's.
        self._live = Live(get_renderable=self._render, console=console, auto_refresh=False,
                          vertical_overflow="crop")

    def __enter__(self) -> LiveView:
        self._live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._live.__exit__(*exc)

    def status(self, message: str) -> None:
        self._status = message
        self._changed()

    def started(self, replay: Replay) -> None:
        self.replay = replay

    def step(self, number: int, total: int, caption: str) -> None:
        self._caption = f"Step {number}/{total}: {caption}"
        self._changed()

    def edited(self, what: str) -> None:
        self._changed()

    def sent_request(self, request: Request) -> None:
        self._changed()

    def finished_request(self, request: Request) -> None:
        self._changed()

    def cache_known(self, request: Request) -> None:
        self._changed()

    def accepted(self, text: str) -> None:
        self._status = f"Tab: accepted ‹{one_line(text)}›"
        self._changed()

    def finished(self, summary: dict) -> None:
        self._caption = "Done"
        self._status = ""
        if self._pending is not None:
            self._pending.cancel()
        self._live.refresh()
        self._live.stop()  # the last screen stays; the summary goes below it
        self.console.print(Panel("\n".join(summary_lines(summary)), title="summary", expand=False))

    def _changed(self) -> None:
        """Redraw now, or once REDRAW_S has passed since the last redraw: events can come faster than that.
        A redraw already scheduled shows this event too; drawing now as well would draw twice when the timer
        is due but has not run yet."""
        if self._pending is not None:
            return
        wait = self._drawn_at + REDRAW_S - self._clock()
        if wait <= 0:
            self._draw()
        else:
            self._pending = (self._call_later or asyncio.get_running_loop().call_later)(wait, self._draw)

    def _draw(self) -> None:
        self._pending = None
        self._drawn_at = self._clock()
        self._live.refresh()

    def _render(self) -> Group:
        parts = [Text(self.title, style="bold")]
        if self.replay is not None:
            ghost = self.replay.ghost if ghost_at_cursor(self.replay) else None
            count = f"suggestion 1 of {len(ghost.items)} (greyed), Tab accepts" if ghost else "no suggestion shown"
            parts += [Panel(self._window(), title=self._caption, title_align="left", subtitle=count,
                            subtitle_align="right"), self._table()]
        parts.append(Text(self._status, style="cyan"))
        return Group(*parts)

    def _window(self) -> Text:
        """The lines around the cursor, the ghost text inserted after it (greyed), with line numbers.

        Only the lines shown are highlighted, and only when the text, cursor or ghost text changed: the
        screen is redrawn often and the CPU is the model's.
        """
        editor = self.replay.editor
        ghost = ghost_at_cursor(self.replay)
        key = (editor.version, editor.cursor, ghost)
        if key != self._window_key:
            self._window_key, self._window_text = key, _window(editor.text, editor.cursor, ghost)
        return self._window_text

    def _table(self) -> Table:
        table = Table(expand=True, box=None, header_style="bold")
        for column, justify, width in (("#", "right", 3), ("at", "right", 6), ("after", "left", 10),
                                       ("result", "left", 26), ("ms", "right", 6),
                                       ("engine since the previous answer", "left", None)):
            table.add_column(column, justify=justify, no_wrap=True, min_width=width, overflow="ellipsis")
        for request in self.replay.requests[-RECENT_REQUESTS:]:
            latency = "…" if request.done_at is None else f"{request.latency_ms:.0f}"
            result = "waiting" if request.done_at is None else describe_result(request)
            table.add_row(str(request.number), f"{request.line}:{request.column}", trigger_label(request.trigger),
                          result, latency, describe_cache(request.cache))
        return table
