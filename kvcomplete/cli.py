"""`kvcomplete` command line: setup, info, complete, serve, demo, bench."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from kvcomplete import __version__
from kvcomplete.completion import config
from kvcomplete.completion.model.offline import stay_offline
from kvcomplete.completion.model.spec import ModelError


def _add_model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="model folder, id in the local HF cache, or .gguf (default: embedded)")
    parser.add_argument("--device", default="auto", choices=config.DEVICES)
    parser.add_argument("--dtype", default="auto", choices=config.DTYPES)
    parser.add_argument("--allow-pickle", action="store_true", help="allow pickled .bin checkpoints (can run code)")
    parser.add_argument("--no-pie", dest="pie", action="store_false",
                        help="re-encode on every edit instead of PIE (also allows length-dependent rotary)")
    parser.add_argument("--kernels", default="auto", choices=config.KERNELS,
                        help="Triton kernels or PyTorch for tree attention and PIE re-rotation (auto: Triton on CUDA)")
    parser.add_argument("--fim-layout", default="auto", choices=config.FIM_LAYOUTS,
                        help="prompt layout: auto = fill-in-the-middle when the model has FIM tokens")
    parser.add_argument("--weights", default="auto", choices=config.WEIGHTS,
                        help="linear layers' format: dense (auto, bf16, fp32) or low-bit CPU kernels (int8, int4)")
    parser.add_argument("--compile", default="auto", choices=config.COMPILE,
                        help="run the forward through torch.compile (auto: off; measured slower on CPU)")
    defaults = config.Settings()
    parser.add_argument("--context-tokens", type=int, default=defaults.context_tokens,
                        help="the document window around the cursor that the cache holds, in tokens")
    parser.add_argument("--latency-budget-ms", type=int, default=defaults.latency_budget_ms,
                        help="serve: answer by then with what is decoded, go on in the background (0: at the end)")


def _settings(args: argparse.Namespace, **extra):
    from kvcomplete.completion.config import Settings

    return Settings(model=args.model, device=args.device, dtype=args.dtype, allow_pickle=args.allow_pickle,
                    pie=args.pie, kernels=args.kernels, fim_layout=args.fim_layout, weights=args.weights,
                    compile=args.compile, context_tokens=args.context_tokens,
                    latency_budget_ms=args.latency_budget_ms, **extra)


def _progress(message: str, fraction: float | None) -> None:
    print(f"kvcomplete: {message}", file=sys.stderr, flush=True)


def cmd_setup(args: argparse.Namespace) -> int:
    from kvcomplete.completion.model import default_model

    folder = default_model.install(log=lambda message: print(f"kvcomplete: {message}", file=sys.stderr))
    print(folder)
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from kvcomplete.completion.model import loading

    info = loading.load(_settings(args), None if args.json else _progress).info()
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        width = max(map(len, info))
        for key, value in info.items():
            print(f"{key:>{width}}: {value}")
    return 0


def parse_location(location: str) -> tuple[Path, int, int]:
    """PATH:LINE:COL with 1-based line and column (column in characters)."""
    try:
        path, line, column = location.rsplit(":", 2)
        return Path(path), int(line), int(column)
    except ValueError:
        raise UserError(f"expected PATH:LINE:COL (1-based), got {location!r}") from None


def read_source(path: Path) -> str:
    if not path.is_file():
        raise UserError(f"no such file: {path}")
    data = path.read_bytes()
    if b"\x00" in data:
        raise UserError(f"{path} is not a text file (it contains NUL bytes)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UserError(f"{path} is not UTF-8 text ({error.reason} at byte {error.start})") from None


def offset_of(text: str, line: int, column: int) -> int:
    lines = text.split("\n")
    if not 1 <= line <= len(lines):
        raise UserError(f"line {line} is outside the file (1..{len(lines)})")
    if not 1 <= column <= len(lines[line - 1]) + 1:
        raise UserError(f"column {column} is outside line {line} (1..{len(lines[line - 1]) + 1})")
    return sum(len(text_line) + 1 for text_line in lines[: line - 1]) + column - 1


def cmd_complete(args: argparse.Namespace) -> int:
    from kvcomplete.completion.engine import Engine
    from kvcomplete.completion.prompt.workspace import enclosing_git_root, index_now

    path, line, column = parse_location(args.location)
    text = read_source(path)
    offset = offset_of(text, line, column)
    workspace = Path(args.workspace) if args.workspace else enclosing_git_root(path.resolve().parent)
    if workspace is not None and not workspace.is_dir():
        raise UserError(f"--workspace {workspace} is not a folder")
    started = time.perf_counter()
    engine = Engine(_settings(args, speculation=args.speculation), None if args.json else _progress)
    load_ms = round((time.perf_counter() - started) * 1000, 1)
    timings, indexed = {"load": load_ms}, None
    if workspace is not None:
        started = time.perf_counter()
        indexed = {"folder": str(workspace), **index_now(engine, [workspace])}
        timings["index"] = round((time.perf_counter() - started) * 1000, 1)
        if not args.json:
            _progress(f"indexed {indexed['indexedFiles']} files ({indexed['indexedTokens']} tokens) of {workspace}",
                      None)
    uri = path.resolve().as_uri()
    engine.open(uri, text)
    result = engine.complete(uri, offset, k=args.k, max_tokens=args.max_tokens)
    timings.update(result.timings_ms)
    if args.json:
        print(json.dumps({"model": engine.info["model"],
                          "suggestions": [{"text": s.text, "logprob": s.logprob} for s in result.suggestions],
                          "timings_ms": timings, "workspace": indexed}, indent=2))
        return 0
    if not result.suggestions:
        print(f"(no suggestion{': ' + result.reason if result.reason else ''})")
    for number, suggestion in enumerate(result.suggestions, 1):
        print(f"--- suggestion {number} (logprob {suggestion.logprob:.2f})")
        print(suggestion.text)
    print(f"--- {', '.join(f'{k} {v:.0f} ms' for k, v in timings.items())}", file=sys.stderr)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from kvcomplete.lsp_server.server import run

    code = run(_settings(args), tcp=args.tcp)
    sys.stderr.flush()
    os._exit(code)  # skip torch/transformers teardown (~2 s) once the protocol is done


def cmd_demo(args: argparse.Namespace) -> int:
    from kvcomplete.demo.run import main as demo_main

    return demo_main(_settings(args, max_tokens=args.max_tokens, suggestions=args.k), pace=args.pace,
                     compare_budgets=args.compare)


def cmd_bench(args: argparse.Namespace) -> int:
    if args.suite == "kernels":
        from kvcomplete.kernels.bench import main as bench_kernels

        return bench_kernels(["--json"] if args.json else [])
    if args.suite == "step":
        from kvcomplete.bench.step import main as bench_step

        return bench_step(quick=args.quick, as_json=args.json, out=Path(args.out), note=args.note)
    if args.suite == "layouts":
        from kvcomplete.bench.layouts import main as bench_layouts

        return bench_layouts(_settings(args), quick=args.quick, as_json=args.json)
    from kvcomplete.bench import main as bench_engine

    return bench_engine(_settings(args), args.suite, quick=args.quick, as_json=args.json, out=Path(args.out),
                        note=args.note)


class UserError(Exception):
    """A mistake in what the user asked for; printed without a traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kvcomplete", description=__doc__)
    parser.add_argument("--version", action="version", version=f"kvcomplete {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("setup", help="fetch and convert the embedded default model (once)").set_defaults(
        run=cmd_setup)

    info = commands.add_parser("info", help="model, family, rotary variant, parameters, device, dtype, FIM")
    _add_model_arguments(info)
    info.add_argument("--json", action="store_true")
    info.set_defaults(run=cmd_info)

    complete = commands.add_parser("complete", help="one-shot completion at PATH:LINE:COL (1-based)")
    complete.add_argument("location", metavar="PATH:LINE:COL")
    complete.add_argument("-k", type=int, default=3, help="number of suggestions (default 3)")
    complete.add_argument("--max-tokens", type=int, default=48)
    complete.add_argument("--no-speculation", dest="speculation", action="store_false")
    complete.add_argument("--json", action="store_true")
    complete.add_argument("--workspace", metavar="DIR",
                          help="folder indexed for the drafters (default: the file's enclosing git root, if any)")
    _add_model_arguments(complete)
    complete.set_defaults(run=cmd_complete)

    serve = commands.add_parser("serve", help="LSP server over stdio (or --tcp 127.0.0.1:PORT)")
    serve.add_argument("--tcp", metavar="127.0.0.1:PORT", help="listen on a loopback TCP port instead of stdio")
    _add_model_arguments(serve)
    serve.set_defaults(run=cmd_serve)

    demo = commands.add_parser("demo", help="replay an editing session through the LSP server, with ghost text")
    demo.add_argument("-k", type=int, default=3, help="suggestions per request (default 3)")
    demo.add_argument("--max-tokens", type=int, default=24, help="tokens per suggestion (default 24, to keep the "
                                                                 "demo short on a CPU)")
    demo.add_argument("--pace", type=float, default=1.0, help="typing speed factor: 2 types twice as slowly")
    demo.add_argument("--compare", action="store_true", help="then replay the session again with "
                      "--latency-budget-ms 0 and show both side by side (twice the time)")
    _add_model_arguments(demo)
    demo.set_defaults(run=cmd_demo)

    bench = commands.add_parser("bench", help="benchmarks: edits, speculation, alternatives, latency, memory, "
                                              "files, window, all; layouts, step; kernels (GPU)")
    bench.add_argument("suite", choices=["edits", "speculation", "alternatives", "latency", "memory", "files",
                                         "window", "all", "layouts", "kernels", "step"])
    bench.add_argument("--json", action="store_true")
    bench.add_argument("--quick", action="store_true")
    bench.add_argument("--out", default="docs/benchmarks", help="folder for the JSON, Markdown and PNG outputs")
    bench.add_argument("--note", help="a remark stored with the results (e.g. what else ran on the machine)")
    _add_model_arguments(bench)
    bench.set_defaults(run=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    stay_offline()  # before a command imports transformers
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        if not _for_the_user(error):
            raise
        print(f"kvcomplete: error: {error}", file=sys.stderr)
        return 2


def _for_the_user(error: Exception) -> bool:
    """Whether ``error``'s message is written for the user (and a traceback would only hide it)."""
    return isinstance(error, (UserError, ValueError, ModelError))


if __name__ == "__main__":
    sys.exit(main())
