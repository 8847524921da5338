"""`kvcomplete bench team`: N simulated editors sharing one llama-server, measured against local PIE.

For each N, a fresh llama-server (llama.cpp's, built by `make llama-cpp`) serves the default model's GGUF with
one slot per editor. N editors (1, 4, 8, 16), each a RemoteEngine in its own thread with its own files, as N
workstations, replay the same real edits of standard-library modules: the PIE paper's insertion, deletion and multi-place
edits (bench/edit_tasks.py), then type the real next line key by key with a request after every key, at the
default latency budget. Per N: keystroke to ghost text (request to an answer with text) p50 / p95 and the
share of keys answered empty; per edit class the prompt tokens the server prefilled (``timings.prompt_n``)
against the tokens local PIE encodes for the same edit; suggestion #1's first line after each edit against
the local engine's (same model, greedy). The same typing replayed through the local engine, one editor, in
the same run, gives the reference: each row's keystroke p95 over the local one's. Every editor edits the same
documents (a team on one repository): the server's prompt cache (``--cache-ram``) then serves one editor's
prompts to the next, which the rows for several editors show; one editor's row is each edit on its own.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from kvcomplete import llama_cpp
from kvcomplete.bench import plots
from kvcomplete.bench.edit_tasks import TASKS, EditSample
from kvcomplete.bench.edits import edit_samples
from kvcomplete.bench.report import header, header_markdown, load_average, table
from kvcomplete.bench.scale import FULL, QUICK
from kvcomplete.completion.config import Settings
from kvcomplete.completion.engine import Engine
from kvcomplete.completion.model import default_model
from kvcomplete.completion.model.loading import load
from kvcomplete.completion.model.threads import available_threads
from kvcomplete.completion.remote.engine import RemoteEngine
from kvcomplete.completion.stats import percentiles
from kvcomplete.completion.text.mirror import TextChange

EDITORS = (1, 4, 8, 16)
SLOT_TOKENS = 2048  # per llama-server slot: the prompt (contextTokens 1024 at most here) and the suggestion
MAX_TOKENS = 16
SAMPLES = {True: 3, False: 12}  # edit samples per editor (--quick: one module's three tasks)
TYPED_KEYS = {True: 6, False: 24}  # keys of the real line typed after each edit, at most


class LlamaServerProcess:
    """llama-server on a free loopback port with ``gguf`` and ``slots`` slots of SLOT_TOKENS, until ``stop``."""

    def __init__(self, gguf: Path, slots: int, threads: int) -> None:
        binary = llama_cpp.binary("llama-server")
        if binary is None:
            raise RuntimeError(llama_cpp.missing_message("llama-server"))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.command = [str(binary), "-m", str(gguf), "--host", "127.0.0.1", "--port", str(port),
                        "-c", str(slots * SLOT_TOKENS), "-np", str(slots), "-t", str(threads), "--no-webui"]
        self.process: subprocess.Popen | None = None

    def start(self, timeout_s: float = 120) -> LlamaServerProcess:
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while not self.healthy():
            if self.process.poll() is not None:
                raise RuntimeError(f"llama-server exited with {self.process.returncode}: {' '.join(self.command)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"llama-server was not healthy within {timeout_s} s")
            time.sleep(0.1)
        return self

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=1) as answer:
                return answer.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()


def distinct(samples: list[EditSample]) -> list[EditSample]:
    """The samples, each document headed by its own comment line: the three tasks of a module share their text
    after the edit, which the server's prompt cache would otherwise serve from the sample before."""
    headed = []
    for index, sample in enumerate(samples):
        head = f"# sample {index}: {sample.module}, {sample.task}\n"
        changes = tuple(TextChange(c.start + len(head), c.end + len(head), c.text) for c in sample.changes)
        headed.append(replace(sample, before=head + sample.before, changes=changes, after=head + sample.after))
    return headed


def local_reference(engine: Engine, samples: list[EditSample]) -> list[dict]:
    """Per sample: the tokens local PIE encodes to follow the edit, and suggestion #1's first line after it."""
    rows = []
    for index, sample in enumerate(samples):
        uri = f"file:///local/{index}.py"
        engine.open(uri, sample.before, "python")
        engine.prepare(uri, len(sample.before))
        encoded = engine.runner.tokens_encoded
        engine.change(uri, list(sample.changes))
        engine.prepare(uri, len(sample.after))
        pie_tokens = engine.runner.tokens_encoded - encoded
        completion = engine.complete(uri, len(sample.after), k=1)
        rows.append({"task": sample.task, "pie_tokens": pie_tokens, "first_line": _first_line(completion)})
        engine.close(uri)
    return rows


def _first_line(completion) -> str:
    return completion.suggestions[0].text.split("\n")[0] if completion.suggestions else ""


def _prefilled(engine: RemoteEngine | Engine) -> int:
    """Tokens run so far: the prompt tokens the server prefilled for a RemoteEngine; every token the local
    Engine's model ran (prompt and suggestion: it counts no prefill apart) for the local one."""
    return engine.remote["remotePrefilled"] if isinstance(engine, RemoteEngine) else engine.runner.tokens_encoded


def _request(engine: RemoteEngine | Engine, uri: str, offset: int, kind: str, budget_ms: float) -> dict:
    prefilled, started = _prefilled(engine), time.perf_counter()
    completion = engine.complete(uri, offset, budget_ms=budget_ms)
    return {"kind": kind, "ms": (time.perf_counter() - started) * 1000, "text": bool(completion.suggestions),
            "prefilled": _prefilled(engine) - prefilled, "first_line": _first_line(completion)}


def replay(engine: RemoteEngine | Engine, editor: int, samples: list[EditSample], keys: int) -> list[dict]:
    """One editor: each sample opened (a cold prompt), edited (asked to the end: the first line is
    compared), then its real line typed key by key at the latency budget."""
    rows, budget = [], engine.settings.latency_budget_ms
    for index, sample in enumerate(samples):
        uri = f"file:///editor{editor}/{index}.py"
        engine.open(uri, sample.before, "python")
        rows.append(_request(engine, uri, len(sample.before), "open", 0))
        engine.change(uri, list(sample.changes))
        rows.append({**_request(engine, uri, len(sample.after), sample.task, 0), "sample": index})
        cursor = len(sample.after)
        for key in sample.target[:keys]:
            engine.change(uri, [TextChange(cursor, cursor, key)])
            cursor += 1
            rows.append(_request(engine, uri, cursor, "typing", budget))
        engine.close(uri)
    return rows


def measure(url: str, settings: Settings, tokenizer: tuple, samples: list[EditSample], editors: int,
            keys: int) -> list[dict]:
    """``editors`` editors replaying ``samples`` at once against ``url``; every editor's rows."""
    remote = settings.replace(backend="llama-server", backend_url=url, backend_timeout_ms=120_000)
    engines = [RemoteEngine(remote, tokenizer=tokenizer) for _ in range(editors)]
    with ThreadPoolExecutor(editors) as pool:
        return [row for rows in pool.map(replay, engines, range(editors), [samples] * editors, [keys] * editors)
                for row in rows]


def summarize(rows: list[dict], local: list[dict], local_p95: float | None = None) -> dict:
    """Keystroke latency (and, given the local engine's keystroke p95, its ratio to it), empty keys, prefill per
    request kind and suggestion #1's agreement with ``local`` (local_reference's rows)."""
    typing = [row for row in rows if row["kind"] == "typing"]
    edited = [row for row in rows if row["kind"] in TASKS]
    typing_ms = percentiles([row["ms"] for row in typing if row["text"]])
    return {"typing_ms": typing_ms,
            "p95_vs_local": round(typing_ms["p95"] / local_p95, 2) if typing_ms["p95"] and local_p95 else None,
            "typing_empty": round(sum(not row["text"] for row in typing) / max(1, len(typing)), 3),
            "prefilled": {kind: _mean([row["prefilled"] for row in rows if row["kind"] == kind])
                          for kind in ("open", *TASKS, "typing")},
            "agreement": round(sum(row["first_line"] == local[row["sample"]]["first_line"] for row in edited)
                               / max(1, len(edited)), 3),
            "requests": len(rows)}


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def run(quick: bool, note: str | None) -> dict:
    settings = Settings(max_tokens=MAX_TOKENS)
    loaded = load(settings)
    engine = Engine(settings, loaded=loaded)
    samples = distinct(edit_samples(engine.vocab, QUICK if quick else FULL)[: SAMPLES[quick]])
    local = local_reference(engine, samples)
    load_before = load_average()  # the same typing through the local engine, one editor, before the server starts
    local_typing = {**summarize(replay(engine, 0, samples, TYPED_KEYS[quick]), local),
                    "load_average": [load_before, load_average()]}
    tokenizer = (loaded.tokenizer, loaded.config, loaded.name)
    report = {"name": "team", **header(loaded, "kvcomplete " + " ".join(sys.argv[1:]), quick, note),
              "samples": len(samples), "typed_keys": TYPED_KEYS[quick], "max_tokens": MAX_TOKENS,
              "local_pie_tokens": {task: _mean([row["pie_tokens"] for row in local if row["task"] == task])
                                   for task in TASKS}, "local": local_typing, "editors": {}}
    for editors in EDITORS:  # a server sized for each team: one slot per editor, nothing cached from another N
        server = LlamaServerProcess(default_model.default_gguf_path(), editors, available_threads()).start()
        try:
            load_before = load_average()
            rows = measure(server.url, settings, tokenizer, samples, editors, TYPED_KEYS[quick])
        finally:
            server.stop()
        report["editors"][editors] = {**summarize(rows, local, local_typing["typing_ms"]["p95"]),
                                      "load_average": [load_before, load_average()]}
        print(f"kvcomplete bench team: {editors} editors done", file=sys.stderr, flush=True)
    report["llama_server"] = " ".join(server.command).replace(f"-c {editors * SLOT_TOKENS} -np {editors}",
                                                              f"-c N*{SLOT_TOKENS} -np N")
    return report


def markdown(report: dict) -> str:
    """The report as Markdown: one row per number of editors, then the local engine's row (1 editor)."""
    rows = [{"editors": editors, "typing p50 ms": r["typing_ms"]["p50"], "typing p95 ms": r["typing_ms"]["p95"],
             "p95 / local p95": r["p95_vs_local"], "keys answered empty": r["typing_empty"],
             **{f"prefilled {kind}": r["prefilled"][kind] for kind in ("open", *TASKS, "typing")},
             "#1 first line = local": r["agreement"], "load average": r["load_average"]}
            for editors, r in [*((int(n), r) for n, r in report["editors"].items()), ("1 (local)", report["local"])]]
    pie = ", ".join(f"{task} {tokens}" for task, tokens in report["local_pie_tokens"].items())
    return (f"# kvcomplete bench team\n\n{header_markdown(report)}- llama-server: `{report['llama_server']}`\n\n"
            f"{report['samples']} edit samples per editor, {report['typed_keys']} keys typed after each; "
            f"local PIE encodes per edit: {pie} tokens. The last row is the same typing through the local engine "
            f"(1 editor, same run; its prefilled: every token its model ran, suggestions included).\n\n{table(rows)}")


def main(quick: bool = False, as_json: bool = False, out: Path = Path("docs/benchmarks"),
         note: str | None = None) -> int:
    report = run(quick, note)
    out.mkdir(parents=True, exist_ok=True)
    (out / "team.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "team.md").write_text(markdown(report) + "\n![team](team.png)\n")
    plots.write("team", report, out / "team.png")
    print(json.dumps(report, indent=2) if as_json else markdown(report))
    return 0
