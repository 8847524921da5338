"""Where a suggestion ends: end of line mid-line, end of the block after a block opener, or where it starts
repeating the text after the cursor. A plain function of the generated text, testable without a model."""

from __future__ import annotations

from dataclasses import dataclass

from kvcomplete.completion.text.syntax import SyntaxContext


def indent_width(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _bracket_balance(text: str) -> int:
    return sum(text.count(c) for c in "([{") - sum(text.count(c) for c in ")]}")


@dataclass(frozen=True, slots=True)
class StopRule:
    multiline: bool  # after a block opener: go on until the block ends
    line_suffix: str  # the rest of the cursor's line, stripped: the suggestion stops before repeating it
    block_indent: int  # indentation of the block opener's line; a line at or left of it ends the block
    next_line: str  # the first non-blank line after the cursor's line, stripped: never repeat it

    @classmethod
    def at(cls, text: str, offset: int, syntax: SyntaxContext) -> StopRule:
        line_end = text.find("\n", offset)
        line_end = len(text) if line_end < 0 else line_end
        suffix = text[offset:line_end].strip()
        following = next((line.strip() for line in text[line_end + 1:].split("\n") if line.strip()), "")
        prefix_lines = text[:offset].rstrip().split("\n")
        opener_line = prefix_lines[-1] if prefix_lines else ""
        multiline = syntax.opens_block and not suffix and not syntax.in_string_or_comment
        return cls(multiline=multiline, line_suffix=suffix, block_indent=indent_width(opener_line),
                   next_line=following)

    def end_of(self, generated: str) -> int | None:
        """Where the suggestion ends inside ``generated`` so far, or None to keep generating."""
        if self.line_suffix:
            end = self._suffix_repeat(generated)
            if end is not None:
                return end
        if not self.multiline:
            content_seen = False
            for index, char in enumerate(generated):
                if char == "\n" and content_seen:
                    return index
                content_seen = content_seen or not char.isspace()
            return None
        return self._block_end(generated)

    def _suffix_repeat(self, generated: str) -> int | None:
        line = generated.split("\n", 1)[0]
        at = line.find(self.line_suffix)
        while at >= 0:
            if _bracket_balance(line[:at]) <= 0:
                return at
            at = line.find(self.line_suffix, at + 1)
        return None

    def _block_end(self, generated: str) -> int | None:
        lines = generated.split("\n")
        offset = len(lines[0]) + 1
        # The first line continues the cursor's; a last, partial line counts as soon as it shows code.
        for line in lines[1:]:
            stripped = line.strip()
            if stripped and (indent_width(line) <= self.block_indent or stripped == self.next_line):
                return offset - 1
            offset += len(line) + 1
        return None

    @staticmethod
    def finish(suggestion: str) -> str:
        """The shown text: no trailing whitespace or blank lines."""
        return suggestion.rstrip()
