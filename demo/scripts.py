"""The sessions replayed on ``examples/geometry.py``: the guided demo, and the typing trace of the latency benchmark."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kvcomplete.demo.actions import END, Accept, DeleteLine, MoveTo, Pause, Step, Type, Wait

EXAMPLE = Path(__file__).parent / "examples" / "geometry.py"
LINE_PAUSE_S = 1.0  # the latency trace's typist stops this long at the end of each line

DEMO = (
    Step("Open the file, cursor after Vector.__add__: the first request encodes the whole file", (
        MoveTo("return Vector(self.x + other.x, self.y + other.y)"),
        Wait(),
    )),
    Step("Write the missing __sub__: a request when typing pauses, cancelled when it goes on; Backspace fixes a "
         "typo; Tab takes the part of the suggestion that matches", (
        Type("\n\n    def __sub__(self, other: Vector) -> Vector:\n        retrun\b\b\b\bturn Vector("),
        Wait(),
        Type("self.x - other.x, self.y - other.y)"),
    )),
    Step("Delete a leftover debug line further down: one didChange", (
        DeleteLine('print("bounding box of"'),
        Wait(),
    )),
    Step("An edit far above the cursor: PIE encodes the new tokens only and re-rotates the cached keys after them", (
        MoveTo("from dataclasses import dataclass"),
        Type("\nfrom typing import Iterable"),
        Wait(),
    )),
    Step("Move to the end of the file, start a function and accept the suggestion with Tab", (
        MoveTo(END),
        Type("\n\ndef centroid(points: Iterable[Vector]) -> Vector:\n    "),
        Wait(),
        Accept(),
    )),
)


@dataclass(frozen=True, slots=True)
class Trace:
    """Lines ``start`` to ``start + count`` (0-based) of a file are removed, then typed back at their place."""

    path: Path
    start: int
    count: int

    def __post_init__(self) -> None:
        if self.start < 1 or self.count < 1:
            raise ValueError(f"a trace keeps a line before the ones it types and types one at least: "
                             f"start {self.start}, count {self.count}")

    def describe(self) -> str:
        return (f"{self.path.name}: lines {self.start + 1}-{self.start + self.count} removed, then typed back key "
                f"by key; the user pauses {LINE_PAUSE_S:g} s at the end of each line, suggestion or not")

    def parts(self) -> tuple[str, str, str]:
        """The text before the typed lines, the typed lines (each with its line break), the text after them."""
        lines = self.path.read_text().splitlines(keepends=True)
        end = self.start + self.count
        if end > len(lines) or not lines[end - 1].endswith("\n"):
            raise ValueError(f"{self.path.name} has no line break after line {end}: the trace does not fit it")
        return "".join(lines[: self.start]), "".join(lines[self.start: end]), "".join(lines[end:])

    def opened_text(self) -> str:
        before, _, after = self.parts()
        return before + after

    def steps(self) -> tuple[Step, ...]:
        """Opening: the cursor goes where the lines were (right after all the text before them) and the first
        answer comes after a full encode. Then the typing, the step the latency is measured on: the pauses at
        the ends of lines do not wait for an answer, so a slow one is cancelled as a typist would."""
        before, typed, _ = self.parts()
        typing: list = []
        for number, line in enumerate(typed.split("\n")[:-1]):
            typing += [Type(("\n" if number else "") + line), Pause(LINE_PAUSE_S)]
        return (Step("open the file: the first request encodes all of it", (MoveTo(before), Wait(read_s=0.3))),
                Step(self.describe(), (*typing, Type("\n"))))


def latency_trace(quick: bool) -> Trace:
    """Quick: ``Box.width`` and ``Box.height``; full: every method of ``Box``."""
    return Trace(EXAMPLE, start=35, count=7) if quick else Trace(EXAMPLE, start=35, count=13)
