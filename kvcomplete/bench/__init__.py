"""`kvcomplete bench edits|speculation|latency|memory|all`: measured side by side, in one run, on real code.

Each suite is one module: ``run(settings, loaded, scale)`` measures and returns a JSON-able dict,
``markdown(result)`` writes its tables; plots.py draws one PNG per suite; report.py adds what every output
carries (machine, date, model, command). A run of NAME (a suite, or "all") writes ``<out>/NAME.json``,
``<out>/NAME.md`` and ``<out>/<suite>.png`` per suite, and prints the Markdown (or, with --json, the JSON).
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from pathlib import Path

from kvcomplete.bench import alternatives, edits, files, latency, memory, plots, speculation, window
from kvcomplete.bench.report import header, header_markdown, load_average
from kvcomplete.bench.scale import FULL, QUICK, Scale
from kvcomplete.completion.config import Settings
from kvcomplete.completion.model.spec import LoadedModel

SUITES = {"edits": edits, "speculation": speculation, "alternatives": alternatives, "latency": latency,
          "memory": memory, "files": files, "window": window}  # `all`'s order


def run_suites(settings: Settings, loaded: LoadedModel, names: list[str], scale: Scale) -> dict[str, dict]:
    """Each suite's result, with its wall time and the load average around it (the CPU may be shared).
    A suite that fails is reported as failed (its traceback on stderr): a long run keeps what the other
    suites measured."""
    results = {}
    for name in names:
        started, load_before = time.perf_counter(), load_average()
        try:
            result = SUITES[name].run(settings, loaded, scale)
        except Exception as error:  # noqa: BLE001 - reported in the outputs and the exit status
            traceback.print_exc()
            result = {"failed": f"{type(error).__name__}: {error}"}
        result["seconds"] = round(time.perf_counter() - started, 1)
        result["load_average"] = [load_before, load_average()]
        results[name] = result
        print(f"kvcomplete bench: {name} took {result['seconds']} s", file=sys.stderr, flush=True)
    return results


def markdown(report: dict) -> str:
    parts = [f"# kvcomplete bench {report['name']}\n\n" + header_markdown(report)]
    for name, result in report["suites"].items():
        before, after = result["load_average"]
        timing = f"{result['seconds']} s, 1-min load average {before} → {after}"
        if "failed" in result:
            parts.append(f"## {name}\n\nNot measured: {result['failed']}.\n")
        else:
            parts.append(f"## {name}\n\n({timing})\n\n{SUITES[name].markdown(result)}\n![{name}]({name}.png)\n")
    return "\n".join(parts)


def write(report: dict, out: Path) -> list[Path]:
    """NAME.json, NAME.md and a PNG per measured suite under ``out``; returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = [out / f"{report['name']}.json", out / f"{report['name']}.md"]
    written[0].write_text(json.dumps(report, indent=2) + "\n")
    written[1].write_text(markdown(report))
    for name, result in report["suites"].items():
        if "failed" not in result:
            plots.write(name, result, out / f"{name}.png")
            written.append(out / f"{name}.png")
    return written


def main(settings: Settings, suite: str, quick: bool = False, as_json: bool = False,
         out: Path = Path("docs/benchmarks"), note: str | None = None) -> int:
    """Run ``suite`` (or "all") on the model ``settings`` names; write the outputs, print Markdown or JSON."""
    from kvcomplete.completion.model.loading import load

    names = list(SUITES) if suite == "all" else [suite]
    if not set(names) <= set(SUITES):
        raise ValueError(f"unknown benchmark suite {suite!r}: choose from {', '.join(SUITES)} or all")
    started = time.perf_counter()
    loaded = load(settings)
    report = {"name": suite, **header(loaded, "kvcomplete " + " ".join(sys.argv[1:]), quick, note)}
    report["suites"] = run_suites(settings, loaded, names, QUICK if quick else FULL)
    report["seconds"] = round(time.perf_counter() - started, 1)  # the whole run, model load included
    paths = write(report, out)
    print(json.dumps(report, indent=2) if as_json else markdown(report))
    print("wrote " + ", ".join(map(str, paths)), file=sys.stderr)
    return 1 if any("failed" in result for result in report["suites"].values()) else 0
