"""The context selector: when a segment is chosen again, and its tokens in the model's format."""

from __future__ import annotations

from pathlib import Path

from kvcomplete.completion.open_documents import OpenDocument
from kvcomplete.completion.prompt.selector import ContextSelector

HELPER = 'def frobnicate(widget):\n    """Turn the widget."""\n    return widget[::-1]\n'
MAIN = "from helper import frobnicate\n\nresult = frobnicate("
SEPARATOR = 9999


class CharacterVocabulary:
    """One token per character: token runs read back as the text they stand for."""

    def encode(self, text: str) -> list[int]:
        return [ord(char) for char in text]


def text_of(tokens) -> str:
    return "".join("<SEP>" if token == SEPARATOR else chr(token) for token in tokens)


def selected(tmp_path: Path, file_separator: int | None) -> OpenDocument:
    (tmp_path / "helper.py").write_text(HELPER)
    (tmp_path / "main.py").write_text(MAIN)
    selector = ContextSelector(CharacterVocabulary(), file_separator)
    selector.use_workspace([tmp_path], lambda: [tmp_path / "helper.py", tmp_path / "main.py"])
    selector.budget = 1000
    doc = OpenDocument((tmp_path / "main.py").as_uri(), MAIN, "python", cursor=len(MAIN))
    assert selector.select(doc, [doc]) and not doc.context_due
    assert not selector.select(doc, [doc])  # chosen again only when due
    return doc


def test_snippets_follow_path_comments_without_a_file_separator(tmp_path):
    context = text_of(selected(tmp_path, None).context)
    assert context.startswith("# helper.py\ndef frobnicate(widget):") and "<SEP>" not in context


def test_a_multi_file_model_gets_its_separator_before_each_snippet_and_the_current_file(tmp_path):
    files = text_of(selected(tmp_path, SEPARATOR).context).split("<SEP>")
    assert files[0] == "" and files[-1] == "main.py\n"  # a separator first, the current file's last
    assert len(files) > 2 and all(file.startswith("helper.py\ndef frobnicate(widget):") for file in files[1:-1])
