"""pygls' LSP protocol, with five changes (some override pygls internals: pygls is pinned below 3).

1. Open documents live in ``lsp_server.editor_texts``, not in pygls' workspace: pygls splits lines like
   ``str.splitlines`` (form feeds and U+2028 end lines there, not in LSP), clamps columns past a line's end
   one character short, and rewrites the whole text on every edit. The didOpen/didChange/didClose
   notifications go straight to the server's handlers.
2. A request whose params do not parse is answered with InvalidParams; pygls only logs it, and the client
   would wait forever.
3. Before ``initialize`` only ``initialize`` and ``exit`` are handled (other requests get
   ServerNotInitialized, notifications are dropped), and a second ``initialize`` is refused.
4. A message without params (JSON-RPC allows it; Neovim sends custom requests so) is read as params null.
5. Completion requests and their cancelled answers are counted as they cross the wire (a request that
   ``$/cancelRequest`` reaches before its handler starts never runs a line of it).
"""

from __future__ import annotations

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidRequest, JsonRpcServerNotInitialized
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method


def _is_request(data: dict) -> bool:
    msg_id = data.get("id")
    return "method" in data and isinstance(msg_id, (str, int)) and not isinstance(msg_id, bool)


COMPLETION_METHODS = {types.TEXT_DOCUMENT_INLINE_COMPLETION, types.TEXT_DOCUMENT_COMPLETION}


class KvCompleteProtocol(LanguageServerProtocol):
    """The protocol of a KvCompleteServer (it counts into ``server.stats``)."""

    def __init__(self, server, converter) -> None:
        super().__init__(server, converter)
        self._completion_ids: set = set()

    def _handle_request(self, msg_id, method_name: str, params) -> None:
        if method_name in COMPLETION_METHODS:
            self._server.stats.requests += 1
            self._completion_ids.add(msg_id)
        super()._handle_request(msg_id, method_name, params)

    def _send_handler_result(self, future, *, msg_id) -> None:
        if msg_id in self._completion_ids:
            self._completion_ids.discard(msg_id)
            if future.cancelled():
                self._server.stats.cancelled += 1
        super()._send_handler_result(future, msg_id=msg_id)

    def _to_handler(self, method: str, params):
        if (handler := self.fm.features.get(method)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams):
        yield from self._to_handler(types.TEXT_DOCUMENT_DID_OPEN, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams):
        yield from self._to_handler(types.TEXT_DOCUMENT_DID_CHANGE, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams):
        yield from self._to_handler(types.TEXT_DOCUMENT_DID_CLOSE, params)

    def handle_message(self, message) -> None:
        method = getattr(message, "method", None)  # None: a response to one of our requests
        initialized = self._workspace is not None
        if method == types.INITIALIZE and initialized:
            error = JsonRpcInvalidRequest("the server is already initialized")
        elif method not in (None, types.INITIALIZE, types.EXIT) and not initialized:
            error = JsonRpcServerNotInitialized()
        else:
            super().handle_message(message)
            return
        if hasattr(message, "id"):
            self._send_response(message.id, error=error.to_response_error())

    def structure_message(self, data: dict):
        if "method" in data and "params" not in data:  # JSON-RPC lets params out; pygls' generic message needs it
            data = {**data, "params": None}
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            if _is_request(data):
                self._send_response(data["id"], error=error.to_response_error())
            raise
