from kvcomplete.completion.text.syntax import context_at, language_of


def test_python_block_openers_come_from_tree_sitter():
    text = "def f(x):\n    \n"
    assert context_at(text, text.index("    ") + 4, "python").opens_block
    assert not context_at("d = {'a':", 9, "python").opens_block, "a dict colon opens no block"


def test_strings_and_comments_are_recognised():
    text = "x = 'abc def'\n"
    assert context_at(text, 8, "python").in_string_or_comment
    assert not context_at(text, 3, "python").in_string_or_comment


def test_languages_without_a_grammar_fall_back_to_the_last_character():
    assert context_at("fn main() {", 11, "rust").opens_block
    assert not context_at("let x = 1;", 10, "rust").opens_block


def test_language_from_extension_or_id():
    assert language_of("file:///a/b.py") == "python"
    assert language_of("file:///a/b.txt") is None
    assert language_of("untitled:1", "Python") == "python"
