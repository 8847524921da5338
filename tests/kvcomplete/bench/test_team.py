"""bench team's replay of one editor (against the in-process fake server, and through the local engine) and its
summary and report."""

from __future__ import annotations

from types import SimpleNamespace

from kvcomplete.bench import plots
from kvcomplete.bench.edit_tasks import EditSample
from kvcomplete.bench.team import distinct, markdown, replay, summarize
from kvcomplete.completion.config import Settings
from kvcomplete.completion.engine import Engine
from kvcomplete.completion.remote.engine import RemoteEngine
from kvcomplete.completion.text.mirror import TextChange
from tests.completion.remote.fake_server import Behaviour, FakeServer

SAMPLE = EditSample(task="insertion", module="m.py", before="def f(x):\n    return x\n\n\ndef g(y):\n    ",
                    changes=(TextChange(10, 10, "    y = 1\n"),),
                    after="def f(x):\n    y = 1\n    return x\n\n\ndef g(y):\n    ", target="return y + 1")


def test_an_editor_opens_edits_then_types_the_real_line_key_by_key(tokenizer):
    server = FakeServer(Behaviour(pieces=["return y + 1\n"], heal=True))
    try:
        engine = RemoteEngine(Settings(backend="llama-server", backend_url=server.url),
                              tokenizer=(tokenizer, SimpleNamespace(model_type="llama"), "SmolLM2-135M"))
        rows = replay(engine, 0, [SAMPLE], keys=4)
    finally:
        server.close()
    assert [row["kind"] for row in rows] == ["open", "insertion", "typing", "typing", "typing", "typing"]
    assert [row["first_line"] for row in rows[:2]] == ["return y + 1"] * 2 and rows[1]["sample"] == 0
    assert [row["prefilled"] for row in rows] == [7, 7, 0, 0, 0, 0]  # the keys type along: no request
    assert all(row["text"] for row in rows) and len(server.requests) == 2


def test_the_local_engine_replays_the_same_typing_counting_the_tokens_it_encodes(tiny_model_dir):
    engine = Engine(Settings(model=str(tiny_model_dir), device="cpu", max_tokens=2, latency_budget_ms=50))
    rows = replay(engine, 0, [SAMPLE], keys=3)
    assert [row["kind"] for row in rows] == ["open", "insertion", "typing", "typing", "typing"]
    assert rows[0]["prefilled"] > 0 and sum(row["prefilled"] for row in rows) == engine.runner.tokens_encoded
    assert all(row["ms"] > 0 for row in rows) and rows[1]["sample"] == 0


def test_the_summary_counts_typing_latency_empty_keys_prefill_and_agreement():
    rows = [{"kind": "open", "ms": 900.0, "text": True, "prefilled": 300, "first_line": "x"},
            {"kind": "insertion", "ms": 80.0, "text": True, "prefilled": 40, "first_line": "a", "sample": 0},
            {"kind": "deletion", "ms": 80.0, "text": True, "prefilled": 20, "first_line": "b", "sample": 1},
            {"kind": "typing", "ms": 50.0, "text": True, "prefilled": 2, "first_line": "c"},
            {"kind": "typing", "ms": 70.0, "text": True, "prefilled": 4, "first_line": "c"},
            {"kind": "typing", "ms": 200.0, "text": False, "prefilled": 3, "first_line": ""}]
    local = [{"task": "insertion", "pie_tokens": 12, "first_line": "a"},
             {"task": "deletion", "pie_tokens": 1, "first_line": "not b"}]
    summary = summarize(rows, local, local_p95=35.0)
    assert summary["typing_ms"] == {"p50": 50.0, "p95": 70.0} and summary["p95_vs_local"] == 2.0
    assert summarize(rows, local)["p95_vs_local"] is None
    assert summary["typing_empty"] == round(1 / 3, 3)
    assert summary["prefilled"] == {"open": 300, "insertion": 40, "deletion": 20, "multi": None, "typing": 3}
    assert summary["agreement"] == 0.5 and summary["requests"] == 6


def test_the_markdown_has_the_ratio_per_editors_row_and_the_local_row_last():
    figures = {"typing_empty": 0, "prefilled": dict.fromkeys(("open", "insertion", "deletion", "multi", "typing"), 1),
               "agreement": 1.0, "load_average": [0.5, 0.6]}
    report = {"command": "kvcomplete bench team", "date": "d", "model": "m", "device": "cpu", "dtype": "f32",
              "machine": {}, "llama_server": "llama-server", "samples": 3, "typed_keys": 6,
              "local_pie_tokens": {"insertion": 1},
              "local": {**figures, "typing_ms": {"p50": 20.0, "p95": 40.0}, "p95_vs_local": None},
              "editors": {"8": {**figures, "typing_ms": {"p50": 60.0, "p95": 100.0}, "p95_vs_local": 2.5}}}
    lines = markdown(report).splitlines()
    columns = [cell.strip() for cell in lines[-4].split("|")]
    assert columns[1:5] == ["editors", "typing p50 ms", "typing p95 ms", "p95 / local p95"]
    assert lines[-2].startswith("| 8 | 60 | 100 | 2.5 |") and lines[-1].startswith("| 1 (local) | 20 | 40 | – |")


def test_distinct_samples_keep_their_edits_under_a_header_line():
    (headed,) = distinct([SAMPLE])
    head = "# sample 0: m.py, insertion\n"
    assert headed.before == head + SAMPLE.before and headed.after == head + SAMPLE.after
    text = headed.before
    for change in headed.changes:
        text = text[: change.start] + change.text + text[change.end:]
    assert text == headed.after


def test_the_plot_draws_p50_and_p95_against_the_editors_with_the_local_lines(tmp_path):
    pyplot = plots._pyplot()
    report = {"local": {"typing_ms": {"p50": 20.0, "p95": 40.0}},
              "editors": {"16": {"typing_ms": {"p50": 90.0, "p95": 300.0}},
                          "1": {"typing_ms": {"p50": 10.0, "p95": 30.0}}}}
    figure, axis = pyplot.subplots()
    try:
        plots.plot_team(report, lambda rows, columns, size: (figure, [axis]))
        drawn = {line.get_label(): (list(line.get_xdata()), list(line.get_ydata())) for line in axis.lines}
    finally:
        pyplot.close(figure)
    assert drawn["llama-server, p50"] == ([1, 16], [10.0, 90.0])
    assert drawn["llama-server, p95"] == ([1, 16], [30.0, 300.0])
    assert drawn["local engine (1 editor), p95"][1] == [40.0, 40.0]
    plots.write("team", report, tmp_path / "team.png")
    assert (tmp_path / "team.png").read_bytes().startswith(b"\x89PNG")
