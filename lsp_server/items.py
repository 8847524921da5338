"""Engine suggestions as LSP items: inline completion items, and completion items for older clients."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

from kvcomplete.completion.decoding.alternatives import distinct
from kvcomplete.lsp_server.editor_texts import Cursor

if TYPE_CHECKING:
    from kvcomplete.completion.engine import Completion

_WORD_BEFORE = re.compile(r"\w*\Z")
LABEL_CHARS = 60


def distinct_texts(completion: Completion, k: int) -> list[str]:
    """The suggestions' texts, best first, at most ``k``: none blank, none equal to or a prefix of an earlier
    one up to whitespace (completion/decoding/alternatives.py)."""
    texts = [suggestion.text for suggestion in completion.suggestions]
    return [texts[index] for index in distinct(texts, k)]


def inline_items(completion: Completion, k: int, cursor: Cursor) -> list[types.InlineCompletionItem]:
    """Each suggestion inserted at the cursor (an empty range there, so no client guesses a word range)."""
    at_cursor = types.Range(start=cursor.position, end=cursor.position)
    return [types.InlineCompletionItem(insert_text=text, range=at_cursor) for text in distinct_texts(completion, k)]


def completion_list(completion: Completion, k: int, cursor: Cursor, codec: PositionCodec) -> types.CompletionList:
    """Each suggestion as a completion item whose text edit carries all of it.

    The edit replaces the word before the cursor with that word plus the suggestion, so that the client,
    which filters items by the typed word, keeps them.
    """
    word = _WORD_BEFORE.search(cursor.line_before).group()
    before_word = cursor.line_before[: len(cursor.line_before) - len(word)]
    word_start = types.Position(line=cursor.position.line, character=codec.client_num_units(before_word))
    word_range = types.Range(start=word_start, end=cursor.position)
    items = []
    for rank, text in enumerate(distinct_texts(completion, k)):
        first_line = (word + text).split("\n", 1)[0]
        items.append(types.CompletionItem(
            label=_label(first_line.strip() or text.strip() or repr(text)),
            kind=types.CompletionItemKind.Text,
            detail="kvcomplete",
            documentation=types.MarkupContent(kind=types.MarkupKind.Markdown, value=f"```\n{word + text}\n```"),
            sort_text=f"{rank:04d}",
            filter_text=first_line,
            insert_text_format=types.InsertTextFormat.PlainText,
            text_edit=types.TextEdit(range=word_range, new_text=word + text),
        ))
    return types.CompletionList(is_incomplete=True, items=items)


def _label(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"
