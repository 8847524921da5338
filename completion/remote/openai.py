"""An OpenAI-compatible ``POST /v1/completions`` (vLLM, llama-server, ...), with the prompt as token ids.

Only the standard fields are sent (``model``, ``prompt``, ``max_tokens``, ``temperature`` 0, ``stream``,
``stream_options.include_usage``): no slot (the server's own prefix cache, e.g. vLLM's automatic prefix
caching, finds the shared prefix) and no grammar, so token healing is checked afterwards rather than imposed
(the engine drops a suggestion that does not reproduce the healed text). Usage comes only with a stream
read to its end (``usage.prompt_tokens_details.cached_tokens``).
"""

from __future__ import annotations

from dataclasses import dataclass

from kvcomplete.completion.remote.api import EngineFacts, RemoteRequest, Usage, WrongModel
from kvcomplete.completion.remote.client import HttpClient


@dataclass(slots=True)
class OpenAiApi:
    model: str | None = None  # the backendModel setting; None: the first model ``/v1/models`` lists
    path: str = "/v1/completions"

    def facts(self, http: HttpClient, timeout_s: float) -> EngineFacts:
        models = http.get_json("/v1/models", timeout_s).get("data") or []
        served = [entry.get("id") for entry in models]
        if self.model is not None and served and self.model not in served:
            raise WrongModel(f"it serves {', '.join(map(str, served))}, not backendModel {self.model!r}")
        first = models[0] if models else {}
        self.model = self.model or first.get("id")
        meta = first.get("meta") or {}  # llama-server adds it; vLLM gives max_model_len
        return EngineFacts(model=self.model or "unknown model", vocab_size=meta.get("n_vocab"),
                           context_tokens=first.get("max_model_len") or meta.get("n_ctx"))

    def body(self, request: RemoteRequest) -> dict:
        return {"model": self.model, "prompt": request.tokens, "max_tokens": request.max_tokens, "temperature": 0.0,
                "stream": True, "stream_options": {"include_usage": True}}

    def text_of(self, event: dict) -> str:
        choices = event.get("choices") or [{}]
        return choices[0].get("text") or ""

    def usage_of(self, event: dict) -> Usage | None:
        usage = event.get("usage")
        if not usage:
            return None
        cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
        return Usage(prefilled=int(usage.get("prompt_tokens", 0)) - int(cached), cached=int(cached))
