"""Options from the client apply key by key over the command line's settings; problems are reported."""

import pytest

from kvcomplete.completion.config import Settings
from kvcomplete.lsp_server.settings import apply_options, options_in


@pytest.mark.parametrize("value, options", [
    (None, None),
    ([1, 2], None),
    ({"maxTokens": 8}, {"maxTokens": 8}),
    ({"kvcomplete": {"maxTokens": 8}, "python": {}}, {"maxTokens": 8}),
])
def test_options_come_bare_or_in_the_kvcomplete_section(value, options):
    assert options_in(value) == options


def test_good_options_apply_over_the_base():
    base = Settings(model="/models/base", device="cpu")
    settings, problems = apply_options(base, {"suggestions": 5, "maxTokens": 16, "pie": False, "logLevel": "debug"})
    assert problems == []
    assert settings == base.replace(suggestions=5, max_tokens=16, pie=False, log_level="debug")


@pytest.mark.parametrize("options, problem", [
    ({"bogus": 1}, "unknown setting 'bogus'"),
    ({"suggestions": 0}, "suggestions must be at least 1"),
    ({"suggestions": "3"}, "suggestions has the wrong type"),
    ({"maxTokens": True}, "maxTokens has the wrong type"),
    ({"pie": 1}, "pie has the wrong type"),
    ({"device": "tpu"}, "device must be one of"),
    ({"model": 7}, "model has the wrong type"),
    ({"allowPickle": True}, "allowPickle can only be given on the command line"),
])
def test_a_bad_key_is_reported_and_skipped_alone(options, problem):
    settings, problems = apply_options(Settings(), {**options, "kvBudgetMB": 512})
    assert len(problems) == 1 and problem in problems[0]
    assert settings == Settings(kv_budget_mb=512)  # the good key still applied, the bad one not at all


def test_model_may_be_reset_to_the_default():
    settings, problems = apply_options(Settings(model="/models/x"), {"model": None})
    assert problems == [] and settings.model is None


@pytest.mark.parametrize("key, field, value", [
    ("maxTokens", "max_tokens", 7),
    ("kvBudgetMB", "kv_budget_mb", 64),
    ("latencyBudgetMs", "latency_budget_ms", 0),
    ("fimLayout", "fim_layout", "psm"),
    ("indexMaxBytes", "index_max_bytes", 10),
    ("prefetch", "prefetch", False),
    ("logLevel", "log_level", "error"),
])
def test_each_key_sets_its_own_setting(key, field, value):
    settings, problems = apply_options(Settings(), {key: value})
    assert problems == [] and settings == Settings().replace(**{field: value})
