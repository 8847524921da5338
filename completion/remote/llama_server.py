"""llama-server's native API: ``POST /completion`` with the prompt as token ids, in the slot the server picks.

Fields as llama.cpp's tools/server defines them (server-schema.cpp): ``prompt`` (token ids are taken as they
are, no BOS added), ``n_predict``, ``cache_prompt`` (reuse the slot's longest common prefix),
``n_cache_reuse`` (also reuse chunks of at least that many tokens further on, shifted: an edit in front of
them no longer costs their prefill), ``t_max_predict_ms``, ``temperature`` 0 / ``top_k`` 1 (greedy),
``grammar`` (GBNF) and ``timings_per_token`` (each streamed event carries ``timings.prompt_n`` and
``timings.cache_n``, so a stream closed early at the stop rule is still counted). ``n_cmpl`` exists but
samples: greedy copies would all be the same, so one suggestion is asked for.

No ``id_slot``: the server takes an idle slot, the one whose cached prompt shares most with the new one (its
prompt-similarity selection), so a file's requests find their cache without queueing behind a busy slot. Pinned
to a hash of the user and file modulo the slots, files collide (8 files used 4 of 8 slots) and a request waits
for its slot while others are idle: with 8 editors on one 2-core llama-server, typing p95 was 531-594 ms pinned
against 203 ms unpinned (same run, `kvcomplete bench team` samples), for more prefill after insertions
(120 tokens against 60: the pinned slots' saved prompts served some).
"""

from __future__ import annotations

from kvcomplete.completion.remote.api import EngineFacts, RemoteRequest, Usage
from kvcomplete.completion.remote.client import HttpClient

CACHE_REUSE_CHUNK = 64  # tokens: a moved chunk at least this long is shifted rather than prefilled again


class LlamaServerApi:
    path = "/completion"

    def facts(self, http: HttpClient, timeout_s: float) -> EngineFacts:
        """``/props`` (per-slot context, model file) and ``/v1/models`` (its vocabulary size)."""
        props = http.get_json("/props", timeout_s)
        models = http.get_json("/v1/models", timeout_s).get("data") or [{}]
        meta = models[0].get("meta") or {}
        context = (props.get("default_generation_settings") or {}).get("n_ctx") or meta.get("n_ctx")
        return EngineFacts(model=props.get("model_path") or models[0].get("id") or "unknown model",
                           vocab_size=meta.get("n_vocab"), context_tokens=context)

    def body(self, request: RemoteRequest) -> dict:
        body = {"prompt": request.tokens, "n_predict": request.max_tokens, "stream": True, "cache_prompt": True,
                "n_cache_reuse": CACHE_REUSE_CHUNK, "temperature": 0.0, "top_k": 1,
                "t_max_predict_ms": request.time_limit_ms, "timings_per_token": True}
        if request.healed:
            body["grammar"] = healing_grammar(request.healed)
        return body

    def text_of(self, event: dict) -> str:
        return event.get("content") or ""

    def usage_of(self, event: dict) -> Usage | None:
        timings = event.get("timings")
        if not timings or "prompt_n" not in timings:
            return None
        return Usage(prefilled=int(timings["prompt_n"]), cached=int(timings.get("cache_n", 0)))


def healing_grammar(healed: str) -> str:
    """A GBNF grammar for "starts with ``healed``, then anything": token healing on the server. The sampler
    then picks the most likely token that agrees with the text the prompt backed off from, as local decoding
    does (completion/decoding/decoding.py, ``choose``)."""
    return f'root ::= "{"".join(_gbnf_char(char) for char in healed)}" .*'


def _gbnf_char(char: str) -> str:
    if char in '"\\':
        return "\\" + char
    if " " <= char <= "~":
        return char
    return f"\\u{ord(char):04X}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08X}"
