"""The cross-file context segment in front of the document: chosen at calm moments, kept in the cache by PIE
edits, and exactly what the selection chose."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from kvcomplete.completion.cache.session import EditMode, Session
from kvcomplete.completion.config import Settings
from kvcomplete.completion.engine import Engine
from kvcomplete.completion.prompt.context import Current, select_context
from kvcomplete.completion.text.mirror import TextChange

HELPER = '''def frobnicate_widget(widget, intensity=3):
    """Frobnicate ``widget`` ``intensity`` times."""
    return widget * intensity


MAGIC_PORT_NUMBER = 48213
'''
MAIN = '''from helper import frobnicate_widget, MAGIC_PORT_NUMBER


def run(widget):
    port = MAGIC_PORT_NUMBER
    return frobnicate_widget(widget, intensity='''


@pytest.fixture
def project(tmp_path) -> Path:
    (tmp_path / "helper.py").write_text(HELPER)
    (tmp_path / "main.py").write_text(MAIN)
    return tmp_path


def engine_with_workspace(project: Path, **options) -> Engine:
    engine = Engine(Settings(**{"device": "cpu", "max_tokens": 4, "suggestions": 1, "speculation": False,
                                "context_tokens": 512, **options}))
    engine.use_workspace([project], lambda: [project / "helper.py", project / "main.py"])
    return engine


def expected_segment(engine: Engine, project: Path, text: str, offset: int) -> str:
    current = Current(project / "main.py", text, "python", offset)
    return select_context(current, [project], [project / "helper.py", project / "main.py"], [],
                          engine.context.budget, lambda block: len(engine.vocab.encode(block))).text


@pytest.mark.parametrize("pie", [False, True])
def test_the_cache_holds_the_chosen_segment_then_the_window_through_selection_changes_and_edits(
        tiny_model_dir, project, settle, pie):
    engine = engine_with_workspace(project, model=str(tiny_model_dir), dtype="float32", weights="fp32", pie=pie)
    uri, text = (project / "main.py").as_uri(), MAIN
    engine.open(uri, text, "python")
    engine.complete(uri, len(text))
    settle(engine)
    doc = engine.documents[uri]
    assert engine.vocab.decode(doc.context) == expected_segment(engine, project, text, len(text))
    assert "def frobnicate_widget" in engine.vocab.decode(doc.context)
    for change in (TextChange(0, 0, "import os\n"), TextChange(len("import os\n"), len("import os\n"), "import json\n")):
        engine.change(uri, [change])
        text = text[: change.start] + change.text + text[change.end:]
        (project / "helper.py").write_text(HELPER.replace("intensity=3", "intensity=4") + "\n# edited\n")
        doc.context_due = True  # as a save or a file switch would
        engine.complete(uri, len(text))
        settle(engine)
        window = doc.window
        assert doc.session.tokens == list(doc.context) + doc.mirror.tokens[window.start: window.end]
        assert engine.vocab.decode(doc.context) == expected_segment(engine, project, text, len(text))
    session = doc.session
    fresh = Session(engine.runner, session.tokens, EditMode.REENCODE)
    layers = slice(None) if not pie else slice(0, 1)
    for cached, reference in ((session.store.keys, fresh.store.keys), (session.store.values, fresh.store.values)):
        torch.testing.assert_close(cached[layers, :, : session.length], reference[layers, :, : session.length],
                                   atol=2e-5, rtol=1e-4)


def test_without_a_workspace_there_is_no_segment_and_the_window_has_the_whole_budget(tiny_model_dir, project):
    engine = Engine(Settings(model=str(tiny_model_dir), device="cpu", context_tokens=512, max_tokens=2))
    assert engine.context.budget == 0 and engine.window_policy.budget == 512
    engine.use_workspace([project], lambda: [])
    assert engine.context.budget == 128 and engine.window_policy.budget == 384


FROBNICATOR = '''class WidgetFrobnicator:
    """Frobnicates widgets."""

    def frobnicate_all(self, widgets, intensity=7919):
        return [widget * intensity for widget in widgets]
'''
USES_IT = ("from helper import WidgetFrobnicator\n\n\ndef run(widgets):\n    frobnicator = WidgetFrobnicator()\n"
           "    return frobnicator.")


@pytest.mark.default_model
@pytest.mark.parametrize("with_workspace", [False, True])
def test_a_name_defined_in_another_file_is_suggested_with_context_and_not_without(tmp_path, settle,
                                                                                 with_workspace):
    (tmp_path / "helper.py").write_text(FROBNICATOR)
    (tmp_path / "main.py").write_text(USES_IT)
    engine = Engine(Settings(device="cpu", max_tokens=12, suggestions=1, speculation=False))
    if with_workspace:
        engine.use_workspace([tmp_path], lambda: [tmp_path / "helper.py"])
    uri = (tmp_path / "main.py").as_uri()
    engine.open(uri, USES_IT, "python")
    settle(engine)  # the context is chosen and encoded in the background, as after didOpen
    suggestion = engine.complete(uri, len(USES_IT)).suggestions[0].text
    assert ("frobnicate_all" in suggestion) == with_workspace, suggestion


def test_a_model_trained_on_file_separators_gets_its_segment_in_that_format(tiny_fim_model_dir, project, settle):
    """StarCoder2 (here a tiny one, FIM): each snippet after a <file_sep> and its path line, then <file_sep> and
    the current file's path line, then the FIM prompt; the cache holds exactly that in front of it."""
    engine = engine_with_workspace(project, model=str(tiny_fim_model_dir), dtype="float32", weights="fp32")
    separator = engine.vocab.tokenizer.convert_tokens_to_ids("<file_sep>")
    uri = (project / "main.py").as_uri()
    engine.open(uri, MAIN, "python")
    assert engine.complete(uri, len(MAIN)).suggestions
    settle(engine)
    current = Current(project / "main.py", MAIN, "python", len(MAIN))
    chosen = select_context(current, [project], [project / "helper.py", project / "main.py"], [],
                            engine.context.budget, lambda block: len(engine.vocab.encode(block)), separated=True)
    expected = [token for piece in [*chosen.blocks, "main.py\n"] for token in [separator, *engine.vocab.encode(piece)]]
    doc = engine.documents[uri]
    assert chosen.blocks and list(doc.context) == expected
    engine.change(uri, [TextChange(len(MAIN), len(MAIN), "3")])
    engine.complete(uri, len(MAIN) + 1)  # a FIM prompt is brought to the chosen segment by the next request
    assert doc.session.tokens[: len(expected)] == expected
