"""Ghost text kept while typing along, what Tab takes, and recognising type-along answers."""

from __future__ import annotations

from kvcomplete.demo.ghost import Answers, Ghost, matching_part


def test_tab_takes_the_whole_suggestion_when_the_user_means_to_type_it():
    assert matching_part("self.x - other.x)", "self.x - other.x)\n") == "self.x - other.x)"


def test_tab_takes_whole_words_up_to_where_the_suggestion_differs():
    assert matching_part("self.x - other.x, self.y + other.y)", "self.x - other.x, self.y - other.y)") == \
        "self.x - other.x, self.y "
    assert matching_part("self.widths()", "self.width * 2") == "self."  # never half a word of either
    assert matching_part("self.width * 2", "self.widths()") == "self."


def test_tab_is_not_worth_it_for_a_short_match():
    assert matching_part("sum(values)", "summary") == ""
    assert matching_part("x + 1", "y + 1") == ""


def test_ghost_text_follows_keys_typed_along_it():
    ghost = Ghost(("return a", "raise b", "pass"), offset=10, version=3)
    after = ghost.after_typing("r", version=4)
    assert after == Ghost(("eturn a", "aise b"), offset=11, version=4)
    assert after.after_typing("eturn a", version=5) is None  # typed all of it: nothing left to show
    assert ghost.after_typing("x", version=4) is None


def test_type_along_answers_are_the_rest_of_the_last_decoded_ones():
    answers = Answers()
    assert not answers.type_along("def f(", ")\n", ("a, b", "x"))  # decoded
    assert answers.type_along("def f(a", ")\n", (", b",))  # "x" does not begin with "a"
    assert answers.type_along("def f(a, ", ")\n", ("b",))
    assert answers.type_along("def f(", ")\n", ("a, b", "x"))  # asked again at the same place


def test_an_answer_after_leaving_the_suggestion_was_decoded():
    answers = Answers()
    answers.type_along("x = ", "\n", ("1",))
    assert not answers.type_along("x = 2", "\n", ("0",))  # "2" was not suggested
    assert not answers.type_along("x = 20", "", ("0",))  # the text after the cursor changed
    assert not answers.type_along("x = 20", "", ())  # an empty answer is never type-along
