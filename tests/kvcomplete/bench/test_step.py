"""bench step: where its agreement points fall, and its Markdown from a result."""

from __future__ import annotations

from kvcomplete.bench import plots
from kvcomplete.bench.step import code_points, markdown

TEXT = "def f(x):\n    # a comment\n    value = compute(x)\n\n    return value + other(x)\nclass C:\n"


def test_points_sit_after_the_indentation_of_code_lines():
    points = code_points(TEXT, 2)
    assert [line for line, _ in points] == [3, 5]  # the comment and the unindented lines are no points
    assert [TEXT[offset:offset + 5] for _, offset in points] == ["value", "retur"]


def test_markdown_names_the_defaults_and_the_shares():
    result = {"setup": {"repeats": 3, "context_tokens": 1000, "greedy_tokens": 32,
                        "layers": {"fp32": "dense", "bf16+int8": "int8 x211"},
                        "auto": {"dtype": "bfloat16", "dtype_reason": "auto: CPU computes bf16 natively",
                                 "weights_reason": "auto: dense"}},
              "forwards": [{"threads": 1, "variant": "fp32", "n=1": 60.0, "n=16": 90.0, "n=16 / n=1": 1.5}],
              "greedy": [{"decoder": "fp32", "tokens": 32, "tokens_per_s": 15.5, "vs_best_transformers": 1.0}],
              "agreement": {"points": 4, "reference": "fp32", "same_as_reference": {"fp32": 4, "bf16+int8": 3}, "rows": []}}
    text = markdown(result)
    assert "dtype bfloat16 (auto: CPU computes bf16 natively)" in text and "bf16+int8: int8 x211" in text
    assert "| bf16+int8 | 3 | 4 | 0.75 |" in text


def test_the_plot_draws_from_the_result(tmp_path):
    result = {"forwards": [{"threads": t, "variant": v, "n=1": 30.0, "n=16": 45.0, "n=16 / n=1": 1.5}
                           for t in (1, 2) for v in ("bf16", "bf16+int4")],
              "greedy": [{"decoder": "bf16", "tokens": 16, "tokens_per_s": 40.0, "vs_best_transformers": 2.0}]}
    plots.write("step", result, tmp_path / "step.png")
    assert (tmp_path / "step.png").read_bytes()[:4] == b"\x89PNG"
