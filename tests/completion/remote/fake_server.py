"""A tiny in-process stand-in for llama-server / an OpenAI-compatible server: ThreadingHTTPServer on 127.0.0.1:0.

It answers ``/props``, ``/v1/models`` and ``/health`` from its Behaviour, records each completion request's
JSON body, streams ``pieces`` as server-sent events (``delay_s`` apart, ``head_delay_s`` before the first, and
forever with ``endless``), and notes when a client closed the stream early (``disconnected``).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Behaviour:
    pieces: list[str] = field(default_factory=lambda: ["x = 1\n"])
    usage: dict = field(default_factory=lambda: {"prompt_n": 7, "cache_n": 93})
    delay_s: float = 0.0
    head_delay_s: float = 0.0
    endless: bool = False
    slots: int = 4
    n_ctx: int = 4096
    n_vocab: int = 49152
    models: tuple[str, ...] = ("SmolLM2-135M-Instruct.Q4_1.gguf",)
    status: int = 200
    heal: bool = False  # stream a request's healing grammar's literal first, as a grammar-constrained server would


class FakeServer:
    def __init__(self, behaviour: Behaviour | None = None) -> None:
        self.behaviour = behaviour or Behaviour()
        self.requests: list[tuple[str, dict, dict]] = []  # (path, body, headers) of completions
        self.disconnected = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                b = fake.behaviour
                answers = {"/props": {"total_slots": b.slots, "model_path": f"/models/{b.models[0]}",
                                      "default_generation_settings": {"n_ctx": b.n_ctx}},
                           "/v1/models": {"data": [{"id": name, "meta": {"n_vocab": b.n_vocab, "n_ctx": b.n_ctx}}
                                                   for name in b.models]},
                           "/health": {"status": "ok"}}
                self._json(answers.get(self.path, {"error": {"message": "not found"}}),
                           200 if self.path in answers else 404)

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append((self.path, body, dict(self.headers)))
                b = fake.behaviour
                if b.status != 200:
                    self._json({"error": {"message": "the engine is loading"}}, b.status)
                    return
                time.sleep(b.head_delay_s)
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    pieces = [*_healed(body), *b.pieces] if b.heal else list(b.pieces)
                    while pieces or b.endless:
                        self._event(self._piece(pieces.pop(0) if pieces else "a"))
                        time.sleep(b.delay_s)
                    self._event(self._final())
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                except OSError:
                    fake.disconnected.set()

            def _piece(self, text: str) -> dict:
                if self.path == "/v1/completions":
                    return {"choices": [{"text": text, "index": 0, "finish_reason": None}]}
                return {"content": text, "stop": False, "timings": fake.behaviour.usage}

            def _final(self) -> dict:
                usage = fake.behaviour.usage
                if self.path == "/v1/completions":
                    total = usage["prompt_n"] + usage["cache_n"]
                    return {"choices": [], "usage": {"prompt_tokens": total,
                                                     "prompt_tokens_details": {"cached_tokens": usage["cache_n"]}}}
                return {"content": "", "stop": True, "timings": usage}

            def _event(self, event: dict) -> None:
                self.wfile.write(b"data: " + json.dumps(event).encode() + b"\n\n")
                self.wfile.flush()

            def _json(self, answer: dict, status: int) -> None:
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True).start()

    def bodies(self) -> list[dict]:
        return [body for _, body, _ in self.requests]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _healed(body: dict) -> list[str]:
    """The literal a healing grammar (``root ::= "..." .*``) starts with, unescaped; none without a grammar."""
    grammar = body.get("grammar")
    if not grammar:
        return []
    literal = grammar[grammar.index('"') + 1: grammar.rindex('"')]
    return [json.loads(f'"{literal}"')]
