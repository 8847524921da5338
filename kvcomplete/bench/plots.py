"""One PNG per suite (matplotlib, a dev extra), drawn from the suite's JSON result alone."""

from __future__ import annotations

from pathlib import Path
from typing import Callable


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise RuntimeError("plots need matplotlib: pip install 'kvcomplete[dev]'") from None
    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as pyplot

    return pyplot


def _grouped_bars(axis, groups: list, series: list, value: Callable[[object, object], float | None],
                  ylabel: str, log: bool = False) -> None:
    """Bars of ``value(group, one_series)``: one cluster per group, one colour per series."""
    width = 0.8 / len(series)
    for number, name in enumerate(series):
        xs = [index + (number - (len(series) - 1) / 2) * width for index in range(len(groups))]
        axis.bar(xs, [value(group, name) or 0 for group in groups], width, label=str(name))
    axis.set_xticks(range(len(groups)), [str(group) for group in groups])
    axis.set_ylabel(ylabel)
    if log:
        axis.set_yscale("log")


def _lookup(rows: list[dict], group_key: str, series_key: str, value_key: str):
    index = {(row[group_key], row[series_key]): row[value_key] for row in rows}
    return lambda group, series: index.get((group, series))


def _unique(rows: list[dict], key: str) -> list:
    return list(dict.fromkeys(row[key] for row in rows))


def plot_edits(result: dict, axes_of) -> None:
    rows = result["tasks"]
    tasks, modes = _unique(rows, "task"), _unique(rows, "mode")
    figure, axes = axes_of(1, 4, (18, 4))
    for axis, key, label in zip(axes, ("exact_match", "edit_similarity", "same_as_full"),
                                ("exact match (real line)", "edit similarity (real line)", "same as full re-encode")):
        _grouped_bars(axis, tasks, modes, _lookup(rows, "task", "mode", key), label)
        axis.set_ylim(0, 1)
    _grouped_bars(axes[3], tasks, modes, _lookup(rows, "task", "mode", "update_ms"), "cache update (ms, log)", log=True)
    axes[0].legend(title="mode")
    figure.suptitle("Next line after an edit: PIE vs full re-encode vs naive reuse")


def plot_speculation(result: dict, axes_of) -> None:
    rows = [{**row, "group": f"{row.get('cases', 'next line')}, k={row['k']}"} for row in result["rows"]]
    groups, modes = _unique(rows, "group"), _unique(rows, "mode")
    figure, axes = axes_of(1, 2, (13, 4))
    _grouped_bars(axes[0], groups, modes, _lookup(rows, "group", "mode", "ms_per_request"), "ms per request")
    _grouped_bars(axes[1], groups, modes, _lookup(rows, "group", "mode", "tokens_per_s"), "tokens/s (all suggestions)")
    for axis in axes:
        axis.set_xlabel("cases, k (suggestions)")
    axes[0].legend(title="drafters")
    figure.suptitle("Speculative decoding vs plain greedy")


def plot_latency(result: dict, axes_of) -> None:
    by_budget = {f"latencyBudgetMs {run['latency_budget_ms']}": run for run in result["runs"]}
    spans = ["keystroke_to_result", "keystroke_to_first_ghost", "keystroke_to_final", "after_tab_first_ghost"]
    figure, axes = axes_of(1, 2, (12, 4))
    _grouped_bars(axes[0], spans, list(by_budget), lambda span, budget: by_budget[budget].get(f"{span}_p50_ms"),
                  "p50 ms (log)", log=True)
    axes[0].tick_params(axis="x", labelrotation=15)
    axes[0].legend()
    _grouped_bars(axes[1], ["requests", "answered", "cancelled", "refreshes"], list(by_budget),
                  lambda count, budget: by_budget[budget][count], "requests")
    axes[1].legend()
    figure.suptitle("A typing trace through the LSP server, latency budget off and on")


def plot_memory(result: dict, axes_of) -> None:
    trace = result["eviction"]
    opened = [row["opened"] for row in trace]
    figure, axes = axes_of(1, 1, (7, 4))
    axis = axes[0]
    axis.plot(opened, [row["kv_mb"] for row in trace], marker="o", label="resident KV (MB)")
    axis.axhline(result["budget_mb"], color="red", linestyle="--", label="kvBudgetMB")
    axis.set_xlabel("documents opened and completed")
    axis.set_xticks(opened)
    axis.set_ylabel("MB")
    twin = axis.twinx()
    twin.step(opened, [row["resident"] for row in trace], where="post", color="gray", label="resident caches")
    twin.step(opened, [row["evictions"] for row in trace], where="post", color="orange", label="evictions")
    twin.set_ylabel("documents")
    axis.legend(loc="upper left")
    twin.legend(loc="lower right")
    figure.suptitle("LRU eviction under the KV budget")


def plot_alternatives(result: dict, axes_of) -> None:
    rows = result["rows"]
    ks = [row["k"] for row in rows]
    figure, axes = axes_of(1, 2, (11, 4))
    axes[0].bar([str(k) for k in ks], [row["items_per_request"] for row in rows])
    axes[0].set_ylabel("items per request")
    _grouped_bars(axes[1], ks, ["top1_edit_similarity", "best_of_k_edit_similarity"],
                  lambda k, key: next(row[key] for row in rows if row["k"] == k), "edit similarity (real line)")
    axes[1].set_ylim(0, 1)
    axes[1].legend()
    for axis in axes:
        axis.set_xlabel("k (suggestions)")
    figure.suptitle("Alternatives after an edit: how many, and how good the best of them is")


def plot_files(result: dict, axes_of) -> None:
    rows = result["rows"]
    figure, axes = axes_of(1, 1, (8, 4))
    _grouped_bars(axes[0], [row["file"] for row in rows], ["first_ms", "typing_ms", "jump_ms"],
                  lambda name, key: next(row[key] for row in rows if row["file"] == name), "ms")
    axes[0].legend()
    figure.suptitle("What a file's size costs: first request, typing, a jump")


def plot_window(result: dict, axes_of) -> None:
    rows = result["rows"]
    figure, axes = axes_of(1, 2, (11, 4))
    sizes = [str(row["context_tokens"]) for row in rows]
    axes[0].bar(sizes, [row["edit_similarity"] for row in rows])
    axes[0].set_ylabel("edit similarity (real line)")
    axes[0].set_ylim(0, 1)
    axes[1].bar(sizes, [row["first_request_ms_p50"] for row in rows])
    axes[1].set_ylabel("first request p50 (ms)")
    for axis in axes:
        axis.set_xlabel("contextTokens")
    figure.suptitle("How large a window: next-line quality and first-request cost")


def plot_step(result: dict, axes_of) -> None:
    forwards, greedy = result["forwards"], result["greedy"]
    counts = _unique(forwards, "threads")
    figure, axes = axes_of(1, len(counts) + 1, (6 * (len(counts) + 1), 4))
    for axis, threads in zip(axes, counts):
        for row in (row for row in forwards if row["threads"] == threads):
            widths = [int(key[2:]) for key in row if key.startswith("n=") and key[2:].isdigit()]
            axis.plot(widths, [row[f"n={n}"] for n in widths], marker="o", label=row["variant"])
        axis.set_xscale("log", base=2)
        axis.set_xlabel(f"tokens per forward ({threads} threads)")
        axis.set_ylabel("ms per forward")
    axes[0].legend(title="variant")
    names = [row["decoder"].replace("transformers generate", "HF generate") for row in greedy]
    axes[-1].barh(names, [row["tokens_per_s"] for row in greedy])
    axes[-1].set_xlabel("greedy tokens/s")
    figure.suptitle("One model step: cost by width, dtype, weights and threads; greedy decode")


def plot_team(result: dict, axes_of) -> None:
    editors = sorted(result["editors"], key=int)
    figure, axes = axes_of(1, 1, (7, 4))
    axis = axes[0]
    for quantile, style, colour in (("p50", "o-", "gray"), ("p95", "s-", "red")):
        axis.plot([int(n) for n in editors], [result["editors"][n]["typing_ms"][quantile] for n in editors], style,
                  label=f"llama-server, {quantile}")
        axis.axhline(result["local"]["typing_ms"][quantile], linestyle="--", color=colour,
                     label=f"local engine (1 editor), {quantile}")
    axis.set_xticks([int(n) for n in editors])
    axis.set_xlabel("editors sharing one llama-server")
    axis.set_ylabel("keystroke to ghost text (ms)")
    axis.legend()
    figure.suptitle("Team backend: typing latency against the number of editors")


PLOTS = {"edits": plot_edits, "speculation": plot_speculation, "alternatives": plot_alternatives,
         "latency": plot_latency, "memory": plot_memory, "files": plot_files, "window": plot_window,
         "step": plot_step, "team": plot_team}


def write(suite: str, result: dict, path: Path) -> None:
    """Draw ``suite``'s ``result`` into the PNG ``path``."""
    pyplot = _pyplot()
    figures = []

    def axes_of(rows: int, columns: int, size: tuple[float, float]):
        figure, axes = pyplot.subplots(rows, columns, figsize=size, squeeze=False)
        figures.append(figure)
        return figure, list(axes.flat)

    try:
        PLOTS[suite](result, axes_of)
        figures[0].tight_layout()
        figures[0].savefig(path, dpi=100)
    finally:
        for figure in figures:
            pyplot.close(figure)
