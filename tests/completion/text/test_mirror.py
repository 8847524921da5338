"""The mirror invariant: decode(tokens) == text after any edits; windowed tokens rarely differ from fresh."""

import random
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from kvcomplete.completion.text.mirror import TextChange, TokenMirror

ALPHABET = st.sampled_from(list("abc xyz_(){}:;=.,'\"\t\r\n  é中😀\U0001f600\U00010348#0123456789"))


def check_mirror(doc: TokenMirror) -> None:
    assert doc.vocab.to_bytes(doc.tokens) == doc.text.encode("utf-8")
    assert doc.token_start(len(doc.tokens)) == len(doc.text.encode("utf-8"))


@st.composite
def edit_sequences(draw):
    text = draw(st.text(ALPHABET, max_size=60))
    changes = []
    length = len(text)
    for _ in range(draw(st.integers(1, 12))):
        start = draw(st.integers(0, length))
        end = draw(st.integers(start, length))
        new = draw(st.text(ALPHABET, max_size=8))
        changes.append(TextChange(start, end, new))
        length += len(new) - (end - start)
    return text, changes


@settings(max_examples=150, deadline=None)
@given(edit_sequences())
def test_random_edits_keep_tokens_equal_to_text(vocab, case):
    text, changes = case
    doc = TokenMirror(vocab, text)
    for change in changes:
        expected = doc.text[: change.start] + change.text + doc.text[change.end:]
        edit = doc.apply(change)
        assert doc.text == expected
        check_mirror(doc)
        if edit is not None:
            assert edit.deleted >= 0 and edit.start + len(edit.inserted) <= len(doc.tokens)


def test_token_edit_is_local_and_minimal(vocab):
    source = Path(random.__file__).read_text()[:6000]
    doc = TokenMirror(vocab, source)
    position = source.index("def ")
    edit = doc.apply(TextChange(position, position, "x"))
    assert edit is not None and edit.deleted <= 2 and len(edit.inserted) <= 3


def test_out_of_range_change_is_refused_and_state_kept(vocab):
    doc = TokenMirror(vocab, "abc")
    try:
        doc.apply(TextChange(2, 10, "x"))
    except ValueError as error:
        assert "outside" in str(error)
    else:
        raise AssertionError("an out-of-range change must be refused")
    assert doc.text == "abc"
    check_mirror(doc)


def test_windowed_tokens_rarely_differ_from_a_fresh_tokenization(vocab):
    """Typing-like edits on real code: how often the mirror's tokens differ from encode(text)."""
    rng = random.Random(7)
    source = Path(random.__file__).read_text()[:8000]
    doc = TokenMirror(vocab, source)
    differing = 0
    trials = 200
    for _ in range(trials):
        position = rng.randrange(len(doc.text))
        if rng.random() < 0.6:
            doc.apply(TextChange(position, position, rng.choice(["x", " ", "(", "\n    ", "ab", "é"])))
        else:
            doc.apply(TextChange(position, min(len(doc.text), position + rng.randint(1, 5)), ""))
        differing += doc.tokens != vocab.encode(doc.text)
        check_mirror(doc)
    assert differing / trials <= 0.05, f"{differing}/{trials} edits left tokens unlike a fresh tokenization"
