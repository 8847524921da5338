"""bench step: where its agreement points fall, and its Markdown from a result."""

from __future__ import annotations

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
              "forwards": [{"threads": 1, "variant": "fp32", "n=1": 60.0}],
              "greedy": [{"decoder": "fp32", "tokens": 32, "tokens_per_s": 15.5, "vs_best_transformers": 1.0}],
              "agreement": {"points": 4, "same_as_fp32": {"fp32": 4, "bf16+int8": 3}, "rows": []}}
    text = markdown(result)
    assert "dtype bfloat16 (auto: CPU computes bf16 natively)" in text and "bf16+int8: int8 x211" in text
    assert "| bf16+int8 | 3 | 4 | 0.75 |" in text
