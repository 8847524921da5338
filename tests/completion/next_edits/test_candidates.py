"""Candidates: the places where the same leaf-level change as the user's last edit could be made."""

from __future__ import annotations

import pytest

from kvcomplete.completion.next_edits import candidates as kinds
from kvcomplete.completion.next_edits.candidates import SEARCH_BYTES, find_candidates
from kvcomplete.completion.next_edits.edits import LastEdit, record_change
from kvcomplete.completion.text.mirror import TextChange


def edited(source: str, old: str, new: str, occurrence: int = 0) -> tuple[str, LastEdit]:
    """``source`` with the ``occurrence``-th ``old`` replaced by ``new`` (as one change), and its record."""
    at = -1
    for _ in range(occurrence + 1):
        at = source.index(old, at + 1)
    change = TextChange(at, at + len(old), new)
    return source[:at] + new + source[at + len(old):], record_change(None, source, change)


def applied(text: str, candidate) -> str:
    return text[: candidate.start] + candidate.new + text[candidate.end:]


def lines_at(text: str, candidates) -> list[str]:
    """Each candidate's line after applying it."""
    results = []
    for candidate in candidates:
        after = applied(text, candidate)
        start = after.rfind("\n", 0, candidate.start) + 1
        results.append(after[start: after.find("\n", candidate.start)])
    return results


def check_invariants(text: str, edit: LastEdit, candidates) -> None:
    for candidate in candidates:
        assert text[candidate.start: candidate.end] == candidate.old
        assert candidate.end < edit.start or candidate.start > edit.end  # never at the edited place


RENAME = """def total(values):
    count = 0
    for value in values:
        count += value
    foobar_count = count
    return count  # count is the sum


def other(count):
    return count
"""


def test_a_rename_proposes_every_other_leaf_with_the_old_name_and_nothing_inside_other_words():
    text, edit = edited(RENAME, "count = 0", "total_sum = 0")
    candidates = find_candidates(text, edit, "python")
    check_invariants(text, edit, candidates)
    assert {c.old for c in candidates} == {"count"} and {c.new for c in candidates} == {"total_sum"}
    identifiers = [i for i in range(len(text)) if text.startswith("count", i) and not text[i - 1].isalnum()
                   and text[i - 1] != "_" and text.rfind("#", 0, i) < text.rfind("\n", 0, i)]
    assert sorted(c.start for c in candidates) == identifiers  # in code, after and before the edit; not in the comment
    assert candidates[0].start > edit.end  # nearest after the edit first


def test_an_added_argument_is_proposed_at_the_same_call_with_the_same_arguments():
    """A line where it fits twice gets it at each place alone and at both as one more candidate (the
    alternatives of one line share its number)."""
    source = "x = scale(a)\ny = scale(a)\nz = scale(b)\nw = shift(a)\nv = scale(a) + scale(a)\n"
    text, edit = edited(source, "scale(a)", "scale(a, factor)")
    candidates = find_candidates(text, edit, "python")
    check_invariants(text, edit, candidates)
    lines = lines_at(text, candidates)
    assert "z = scale(b)" not in lines and all("scale(b" not in line for line in lines)
    assert lines[:4] == ["y = scale(a, factor)", "v = scale(a, factor) + scale(a)",
                         "v = scale(a, factor) + scale(a, factor)", "v = scale(a) + scale(a, factor)"]
    assert [c.line for c in candidates[:4]] == [1, 4, 4, 4]
    assert lines[4:] == ["w = shift(a, factor)"]  # fewer anchors (``a)``), last


def test_a_type_annotation_is_proposed_for_the_same_parameter():
    source = "def first(path):\n    pass\n\n\ndef second(path):\n    return first(path)\n"
    text, edit = edited(source, "path)", "path: str)")
    candidates = find_candidates(text, edit, "python")
    check_invariants(text, edit, candidates)
    assert "def second(path: str):" in lines_at(text, candidates)
    assert all(c.new == ": str" and c.old == "" for c in candidates)


def test_a_replaced_method_is_renamed_at_its_other_calls_only():
    source = "client.fetch(1)\nclient.fetch(2)\nclient.fetch_all()\nrefetch = 3\n"
    text, edit = edited(source, "fetch", "get")
    candidates = find_candidates(text, edit, "python")
    assert lines_at(text, candidates) == ["client.get(2)"]


def test_a_pure_insertion_at_the_line_end_is_proposed_after_the_same_anchors_at_a_line_end():
    """The line's end is an anchor: ``]`` → ``])`` is looked for at every ``]`` that ends a line."""
    source = "name = read(path)\ntitle = read(path)\nother = read(path2)\nlast = read(path) or 1\n"
    text, edit = edited(source, "read(path)", "read(path).strip()")
    candidates = find_candidates(text, edit, "python")
    check_invariants(text, edit, candidates)
    assert lines_at(text, candidates) == ["title = read(path).strip()", "other = read(path2).strip()"]
    assert candidates[0].anchors > candidates[1].anchors
    source = "x = [\n    1,\n]\ny = [\n    2,\n]\nz = [3]\nw = [4] + 1\n"
    text, edit = edited(source, "]", "])")
    assert lines_at(text, find_candidates(text, edit, "python")) == ["])", "z = [3])"]


def test_a_deletion_takes_the_spaces_before_what_it_deletes():
    source = "a = load(x, cache=True)\nb = load(y, cache=True)\n"
    text, edit = edited(source, ", cache=True", "")
    candidates = find_candidates(text, edit, "python")
    assert lines_at(text, candidates) == ["b = load(y)"]


def test_a_deletion_that_kept_its_space_keeps_it_at_the_other_places():
    source = "from .packages.urllib3 import a\nfrom .packages.urllib3 import b\n"
    text, edit = edited(source, ".packages.", "")
    candidates = find_candidates(text, edit, "python")
    assert lines_at(text, candidates) == ["from urllib3 import b"]


def test_offsets_are_code_points_in_text_with_wide_characters():
    source = "é = f(a)  # ü\nç = f(a)\n"
    text, edit = edited(source, "f(a)", "f(a, b)")
    candidates = find_candidates(text, edit, "python")
    check_invariants(text, edit, candidates)
    assert lines_at(text, candidates) == ["ç = f(a, b)"]


def test_the_count_is_bounded_and_the_nearest_come_first():
    source = "value = 1\n" + "".join(f"print(value + {i})\n" for i in range(300))
    text, edit = edited(source, "value", "amount")
    candidates = find_candidates(text, edit, "python", limit=16)
    assert len(candidates) == 16
    assert [c.start for c in candidates] == sorted(c.start for c in candidates)
    assert candidates[0].start == text.index("print(value") + len("print(")


@pytest.mark.parametrize("language", [None, "no-such-language"])
def test_no_grammar_no_candidates(language):
    text, edit = edited(RENAME, "count = 0", "total_sum = 0")
    assert find_candidates(text, edit, language) == []


def test_a_change_of_spaces_only_or_undone_has_no_candidates():
    text, edit = edited(RENAME, "count = 0", "count  = 0")
    assert find_candidates(text, edit, "python") == []
    at = RENAME.index("count = 0")
    typed = record_change(None, RENAME, TextChange(at, at + 5, "total"))
    undone = record_change(typed, RENAME.replace("count = 0", "total = 0"), TextChange(at, at + 5, "count"))
    assert undone.old == undone.new(RENAME) and find_candidates(RENAME, undone, "python") == []


def test_places_far_from_the_edit_are_not_looked_for():
    filler = "pass\n" * (SEARCH_BYTES // 5 + 10)
    source = "value = 1\nprint(value)\n" + filler + "print(value)\n"
    text, edit = edited(source, "value", "amount")
    assert [c.start for c in find_candidates(text, edit, "python")] == [text.index("print(value") + len("print(")]


def test_a_change_inside_a_string_or_comment_is_matched_word_by_word_in_the_others():
    source = ('VERSION = "2.3.0"\nREQUIRES = "lib>=2.3.0"\nOTHER = "12.3.0"\n# see the 2.3.0 notes\n'
              'NAME = "v2"\n')
    text, edit = edited(source, '"2.3.0"', '"2.4.0"')
    candidates = find_candidates(text, edit, "python")
    check_invariants(text, edit, candidates)
    lines = lines_at(text, candidates)
    assert lines == ['REQUIRES = "lib>=2.4.0"', 'OTHER = "12.4.0"', "# see the 2.4.0 notes"]  # more anchors first
    assert [c.anchors for c in candidates] == [3, 2, 0] and all(c.old == "3" and c.new == "4" for c in candidates)


def test_a_word_replaced_in_a_comment_is_looked_for_in_strings_and_numbers_too_but_not_in_code():
    source = ('# needs lib < 3.0\nassert version < (3, 0)\nURL = "https://host/v3/api"\nv3 = 3\nx3 = foo3\n'
              'y = 33\n')
    text, edit = edited(source, "< 3.0", "< 4.0")
    lines = lines_at(text, find_candidates(text, edit, "python"))
    assert lines == ["assert version < (4, 0)", "v3 = 4"]  # not v3 (a name), x3, foo3, 33 nor inside v3
    source = '# see http://a.org\ncall("http://b.org")\nhttp = 1\n'
    text, edit = edited(source, "http:", "https:")
    assert lines_at(text, find_candidates(text, edit, "python")) == ['call("https://b.org")']


def test_a_docstrings_words_on_the_edited_lines_are_compared_escapes_included():
    source = 'def a():\n    """Sends a \\*GET request."""\n\n\ndef b():\n    """Sends a \\*POST request."""\n'
    text, edit = edited(source, '"""Sends', 'r"""Sends')
    candidates = find_candidates(text, edit, "python")
    assert lines_at(text, candidates) == ['    r"""Sends a \\*POST request."""']


def test_a_deleted_comment_takes_the_spaces_before_it():
    source = "a = f(x),  # type: ignore\nb = g(y)  # type: ignore\n"
    text, edit = edited(source, "  # type: ignore", "")
    assert lines_at(text, find_candidates(text, edit, "python")) == ["b = g(y)"]


def test_an_insertion_that_brings_its_spaces_takes_the_blanks_at_its_place():
    source = "def f(verify: Context | bool = True):\n    pass\n\n\ndef g(verify: Context | bool = False):\n    pass\n"
    text, edit = edited(source, "Context | bool = True", "Context | str | bool = True")
    candidates = find_candidates(text, edit, "python")
    check_invariants(text, edit, candidates)
    assert lines_at(text, candidates)[0] == "def g(verify: Context | str | bool = False):"


def test_a_line_changed_the_same_way_in_several_places_is_that_change_once():
    source = 'x = ["a\\n", "b\\n"]\ny = ["c\\n", "d\\n", "e"]\n'
    text, edit = edited(source, 'x = ["a\\n", "b\\n"]', 'x = ["a", "b"]')
    lines = lines_at(text, find_candidates(text, edit, "python"))
    assert 'y = ["c", "d", "e"]' in lines and 'y = ["c", "d\\n", "e"]' in lines


def test_places_matched_only_by_the_word_are_not_merged_with_anchored_ones_of_their_line():
    source = 'fail("call an sync close on an async stream")\nfail("an async iterator on an sync stream")\n'
    text, edit = edited(source, "call an sync", "call a sync")
    candidates = find_candidates(text, edit, "python")
    assert lines_at(text, candidates) == ['fail("an async iterator on a sync stream")',  # ``an sync``
                                          'fail("a async iterator on an sync stream")']  # the word alone
    assert [c.line for c in candidates] == [1, 1] and candidates[0].anchors > candidates[1].anchors == 0


def test_an_insertion_after_a_space_keeps_one_space():
    source = "    passed to func:`dumps`.\n    passed to func:`dump`.\n"
    text, edit = edited(source, "to func:`dumps`", "to :func:`dumps`")
    assert lines_at(text, find_candidates(text, edit, "python")) == ["    passed to :func:`dump`."]
    source = "a = f(x)\nb = f(y)\n"
    text, edit = edited(source, "a = f(x)", "a = await f(x)")
    assert lines_at(text, find_candidates(text, edit, "python")) == ["b = await f(y)"]


@pytest.mark.parametrize(("source", "old", "new", "kind"), [
    ("import asyncio\n\nasync def f():\n    await asyncio.sleep(1)\n", "import asyncio", "import anyio",
     kinds.DEFINITION),
    ("from .globals import _cv_req as cv\n\nprint(_cv_req, cv)\n", "import _cv_req", "import _cv_request",
     kinds.DEFINITION),
    ("@cache\ndef load():\n    pass\n\n\nload()\nload()\n", "def load", "def fetch", kinds.DEFINITION),
    ("LIMIT: int = 3\nprint(LIMIT)\n", "LIMIT:", "CAP:", kinds.DEFINITION),
    ("def f(path):\n    return path\n\n\npath = 1\n", "f(path)", "f(file)", kinds.PARAMETER),
    ("def f(path: str = ''):\n    return path\n", "path:", "file:", kinds.PARAMETER),
    ("class C:\n    def load(self):\n        pass\n\n\nC().load()\n", "def load", "def fetch",
     kinds.RENAME),  # a method: not the module's name
    ("x = load()\ny = load()\n", "x = load", "x = fetch", kinds.RENAME),  # a use, not the definition
    ("version = '2.3'\nold = '2.3'\n", "'2.3'", "'2.4'", kinds.WORD),
    ("f(a)\nf(a)\n", "f(a)", "f(a, b)", None),
])
def test_each_candidate_carries_the_edits_kind_a_rename_of_a_module_level_name_is_a_definition(source, old, new,
                                                                                                kind):
    text, edit = edited(source, old, new)
    candidates = find_candidates(text, edit, "python")
    assert candidates and {candidate.kind for candidate in candidates} == {kind}
