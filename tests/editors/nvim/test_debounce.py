"""The adaptive pause after a keystroke (``lua/kvcomplete/debounce.lua``), without a server (``nvim -l``): where it
starts, how it follows the latency of the answers, and that it never leaves the user's bounds; and how setup()
settles the three options (``lua/kvcomplete/config.lua``)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e  # nvim -l

# The pause after each latency of DATA.latencies, from a debounce made with DATA.options.
FOLLOW = """
  local debounce = require('kvcomplete.debounce').new(DATA.options)
  local delays = { debounce:delay() }
  for _, latency in ipairs(DATA.latencies) do
    debounce:observe(latency)
    table.insert(delays, debounce:delay())
  end
  return delays
"""
BOUNDS = {"debounce_ms": 200, "debounce_min_ms": 50, "debounce_max_ms": 500}


def test_the_pause_starts_at_debounce_ms_and_moves_a_quarter_of_the_way_to_each_latency(run_lua, tmp_path):
    got = run_lua(tmp_path, FOLLOW, {"options": BOUNDS, "latencies": [100, 100, 400]})
    assert got == [200, 175, 156, 217]  # 200 + (100 - 200) / 4 = 175; 175 - 75 / 4 = 156.25; 156.25 + 243.75 / 4


def test_fast_answers_shorten_the_pause_to_the_minimum_and_slow_ones_lengthen_it_to_the_maximum(run_lua, tmp_path):
    fast = run_lua(tmp_path, FOLLOW, {"options": BOUNDS, "latencies": [5] * 30})
    assert fast[1] < fast[0] and fast == sorted(fast, reverse=True) and fast[-1] == 50
    slow = run_lua(tmp_path, FOLLOW, {"options": BOUNDS, "latencies": [3000] * 30})
    assert slow[1] > slow[0] and slow == sorted(slow) and slow[-1] == 500
    # It recovers from a very slow spell within a few answers (the average itself stays within the bounds).
    recovered = run_lua(tmp_path, FOLLOW, {"options": BOUNDS, "latencies": [60000] * 5 + [100] * 8})
    assert recovered[5] == 500 and recovered[-1] < 150


def test_the_pause_stays_within_the_bounds_whatever_the_latencies(run_lua, tmp_path):
    got = run_lua(tmp_path, """
      math.randomseed(7)
      local debounce = require('kvcomplete.debounce').new(DATA)
      local low, high = math.huge, -math.huge
      for _ = 1, 5000 do
        debounce:observe(math.random() < 0.5 and math.random() * 40 or math.random() * 20000)
        low, high = math.min(low, debounce:delay()), math.max(high, debounce:delay())
      end
      debounce:observe(-1) -- not a latency: ignored
      debounce:observe(0 / 0)
      return { low = low, high = high, last = debounce:delay() }
    """, {"debounce_ms": 120, "debounce_min_ms": 80, "debounce_max_ms": 300})
    assert got["low"] == 80 and got["high"] == 300 and 80 <= got["last"] <= 300


@pytest.mark.parametrize(("options", "expected"), [
    ({}, (50, 200, 500)),
    ({"debounce_ms": 1000}, (50, 1000, 1000)),  # the default maximum gives way
    ({"debounce_ms": 10}, (10, 10, 500)),
    ({"debounce_max_ms": 100}, (50, 100, 100)),  # the default start gives way
    ({"debounce_min_ms": 800}, (800, 800, 800)),
    ({"debounce_min_ms": 0, "debounce_max_ms": 3000}, (0, 200, 3000)),
    ({"debounce_ms": 2000, "debounce_min_ms": 2000, "debounce_max_ms": 2000}, (2000, 2000, 2000)),
])
def test_setup_settles_the_three_options(run_lua, tmp_path, options, expected):
    got = run_lua(tmp_path, "local o = require('kvcomplete.config').resolve(DATA)\n"
                            "return { o.debounce_min_ms, o.debounce_ms, o.debounce_max_ms }", options)
    assert tuple(got) == expected
