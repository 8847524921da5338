"""Stop rules as plain functions of text."""

from kvcomplete.completion.decoding.stops import StopRule
from kvcomplete.completion.text.syntax import SyntaxContext

PLAIN = SyntaxContext(opens_block=False, in_string_or_comment=False)
OPENER = SyntaxContext(opens_block=True, in_string_or_comment=False)


def rule(text, marker="|", syntax=PLAIN):
    offset = text.index(marker)
    return StopRule.at(text.replace(marker, ""), offset, syntax)


def test_mid_line_stops_at_end_of_line():
    stop = rule("x = |\ny = 2\n")
    assert stop.end_of("compute(1)\nz = 3") == len("compute(1)")
    assert stop.end_of("compute(1") is None


def test_leading_newline_continues_to_the_next_line():
    stop = rule("x = 1|\n")
    assert stop.end_of("\n    y = 2\n") == len("\n    y = 2")


def test_stops_before_repeating_the_text_after_the_cursor():
    stop = rule("print(|)\n")
    assert stop.end_of("value)") == len("value")
    assert stop.end_of("f(x))") == len("f(x)"), "a closer that closes the suggestion's own bracket is kept"


def test_block_goes_on_until_dedent():
    stop = rule("def f(x):\n    |\n\nprint(f(1))\n", syntax=OPENER)
    assert stop.multiline
    body = "if x:\n        return 1\n    return 2\n"
    assert stop.end_of(body) is None
    assert stop.end_of(body + "def g():\n") == len(body) - 1
    assert stop.end_of(body + "def") == len(body) - 1, "a dedented partial line ends the block too"
    assert stop.end_of(body + "    ") is None, "indentation alone does not end it"


def test_block_stops_before_repeating_the_next_line():
    stop = rule("def f(x):\n    |\n    return y\n", syntax=OPENER)
    assert stop.end_of("y = x + 1\n    return y\n") == len("y = x + 1")


def test_finish_strips_trailing_whitespace():
    assert StopRule.finish("return 1  \n\n") == "return 1"
