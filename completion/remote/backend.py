"""The backend as the engine sees it: where it is (HttpClient), how to ask it (Api), whether it is up
(BackendLink) and what it serves (EngineFacts), checked against the workstation's tokenizer."""

from __future__ import annotations

from collections.abc import Callable

from kvcomplete.completion.config import Settings
from kvcomplete.completion.remote.api import Api, EngineFacts, RemoteRequest, WrongModel
from kvcomplete.completion.remote.client import EngineUnavailable, EventStream, HttpClient
from kvcomplete.completion.remote.link import BackendLink
from kvcomplete.completion.remote.llama_server import LlamaServerApi
from kvcomplete.completion.remote.openai import OpenAiApi


class Backend:
    def __init__(self, settings: Settings, on_change: Callable[[str, bool], None] = lambda message, up: None) -> None:
        """``on_change``: told (a message for the user, whether it is up) when it goes down or comes back."""
        self.kind, self.timeout_s = settings.backend, settings.backend_timeout_ms / 1000
        self.http = HttpClient(settings.backend_url)
        self.api: Api = LlamaServerApi() if settings.backend == "llama-server" else OpenAiApi(settings.backend_model)
        self.link = BackendLink(settings.backend, self.http.base_url, fallback=settings.backend_fallback,
                                on_change=on_change)
        self.facts: EngineFacts | None = None

    def check(self, vocab_size: int, name: str) -> bool:
        """Ask the backend what it serves; True when it is up and serves the model of the tokenizer ``name``
        (``vocab_size`` tokens). A failure goes to the link, with what to do."""
        try:
            facts = self.api.facts(self.http, self.timeout_s)
        except EngineUnavailable as error:
            self.link.failed(str(error))
            return False
        except WrongModel as error:
            self.link.failed(str(error), "wrong-model")
            return False
        except (ValueError, TypeError, AttributeError) as error:
            self.link.failed(f"unexpected answer (is it a {self.kind}?): {error}")
            return False
        mismatch = facts.mismatch(vocab_size, name)
        if mismatch is not None:
            self.link.failed(mismatch, "wrong-model")
            return False
        self.facts = facts
        self.link.succeeded()
        return True

    def usable(self, vocab_size: int, name: str) -> bool:
        """Whether to send a request now: the backend is up, or due for another try and up again."""
        if self.link.state == "ok":
            return True
        return self.link.due() and self.check(vocab_size, name)

    def stream(self, request: RemoteRequest) -> EventStream:
        headers = {"X-Kvcomplete-Key": f"{request.key:08x}"}  # for a router keeping a file on one server
        return self.http.stream(self.api.path, self.api.body(request), headers, self.timeout_s)
