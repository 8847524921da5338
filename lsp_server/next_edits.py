"""The next-edits protocol: what `kvcomplete/nextEdits` accepts, and the engine's proposals (code-point offsets
in the text they were made on) as ``{uri, version, edits: [{range, oldText, newText, score}]}`` in the
negotiated position encoding. docs/next-edits.md describes the methods."""

from __future__ import annotations

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.workspace.position_codec import PositionCodec

from kvcomplete.lsp_server.editor_texts import EditorText, PositionError

NEXT_EDITS = "kvcomplete/nextEdits"
NEXT_EDITS_READY = "kvcomplete/nextEditsReady"  # server → client
NEXT_EDIT_FEEDBACK = "kvcomplete/nextEditFeedback"


def requested_position(uri: object, position: object) -> tuple[str, types.Position]:
    """The request's document and position; JsonRpcInvalidParams when they are malformed."""
    line, character = getattr(position, "line", None), getattr(position, "character", None)
    if not isinstance(uri, str) or not all(type(n) is int and n >= 0 for n in (line, character)):
        raise JsonRpcInvalidParams(f"{NEXT_EDITS} wants {{textDocument: {{uri}}, position: {{line, character}}}}")
    return uri, types.Position(line=line, character=character)


def check_position(document: EditorText, position: types.Position, codec: PositionCodec) -> None:
    try:
        document.cursor(position, codec)
    except PositionError as error:
        raise JsonRpcInvalidParams(str(error)) from None


def message(document: EditorText | None, codec: PositionCodec, uri: str, text: str, proposals: list) -> dict | None:
    """The protocol's object for ``proposals`` made on ``text``; None once the editor's text is another."""
    if document is None or document.text != text:
        return None

    def position(offset: int) -> dict:
        at = document.position_of(offset, codec)
        return {"line": at.line, "character": at.character}

    edits = [{"range": {"start": position(p.start), "end": position(p.end)}, "oldText": p.old,
              "newText": p.new, "score": p.score} for p in proposals]
    return {"uri": uri, "version": document.version, "edits": edits}
