import { describe, expect, it } from 'vitest';
import type * as vscode from 'vscode';
import { formatStats, modelInUse, timings } from '../../src/stats';
import { acceptanceRate, SHOW_STATS_COMMAND, StatusBar, statusText, statusTooltip } from '../../src/status';
import { window } from '../vscode';

describe('status bar', () => {
  it('shows model, device, last latency and acceptance rate once ready', () => {
    const state = { phase: 'ready' as const, model: 'SmolLM2-135M-Instruct', device: 'cpu', latencyMs: 41.6, answers: 8, accepted: 3 };
    expect(statusText(state)).toBe('$(sparkle) SmolLM2-135M-Instruct · cpu · 42 ms · 38%');
    expect(statusTooltip(state)).toContain('accepted from 3 of 8 answers');
  });

  it('shows a dash before the first answer', () => {
    expect(acceptanceRate({ answers: 0, accepted: 0 })).toBe('–');
    expect(statusText({ phase: 'ready', model: 'm', device: 'cuda', answers: 0, accepted: 0 })).toBe('$(sparkle) m · cuda · – ms · –');
  });

  it('says why it failed', () => {
    const state = { phase: 'failed' as const, error: 'no model: cannot read /x', answers: 0, accepted: 0 };
    expect(statusText(state)).toBe('$(error) kvcomplete');
    expect(statusTooltip(state)).toContain('no model: cannot read /x');
  });

  it('renders into the item on every update, and clicks show the stats', () => {
    const item = window.createStatusBarItem();
    const status = new StatusBar(item as unknown as vscode.StatusBarItem);
    expect(item.command).toBe(SHOW_STATS_COMMAND);
    expect(item.text).toBe('$(loading~spin) kvcomplete');
    status.update({ phase: 'ready', model: 'tiny', device: 'cpu', latencyMs: 5, answers: 1, accepted: 1 });
    expect(item.text).toBe('$(sparkle) tiny · cpu · 5 ms · 100%');
    status.update({ phase: 'stopped' });
    expect(item.text).toBe('$(circle-slash) kvcomplete');
  });
});

describe('formatStats', () => {
  it('shows every key, nested ones on one line, and the acceptance seen here', () => {
    const lines = formatStats({ requests: 12, cancelled: 3, latencyMs: { p50: 41.2, p95: 96 }, kvBytes: 1024 }, 4, 1);
    expect(lines).toEqual(['requests: 12', 'cancelled: 3', 'latencyMs: p50 41.2, p95 96', 'kvBytes: 1024',
      'accepted here: 1 of 4 answers (25%)']);
  });
});

describe('timings', () => {
  it("takes the p50s of the server's first-ghost-text and final-suggestion times, leaving out unmeasured ones", () => {
    expect(timings({ firstAnswerMs: { p50: 120, p95: 300 }, finalSuggestionMs: { p50: 900.5, p95: 2000 } }))
      .toEqual({ firstAnswerMs: 120, finalSuggestionMs: 900.5 });
    expect(timings({ firstAnswerMs: { p50: null, p95: null }, finalSuggestionMs: null })).toEqual({});
    expect(timings({ requests: 3 })).toEqual({});
  });

  it('shows them in the tooltip, with a dash before they are measured', () => {
    const state = { phase: 'ready' as const, model: 'm', device: 'cpu', answers: 0, accepted: 0 };
    expect(statusTooltip({ ...state, firstAnswerMs: 181.6, finalSuggestionMs: 1250 }))
      .toContain('server p50: first ghost text 182 ms, final suggestion 1250 ms');
    expect(statusTooltip(state)).toContain('server p50: first ghost text –, final suggestion –');
  });

  it('are shown by formatStats, a null as a dash', () => {
    expect(formatStats({ firstAnswerMs: { p50: 120, p95: 300 }, finalSuggestionMs: { p50: null, p95: null } }, 0, 0))
      .toEqual(['firstAnswerMs: p50 120, p95 300', 'finalSuggestionMs: p50 –, p95 –', 'accepted here: 0 of 0 answers (–)']);
  });
});

describe('formatStats, the model', () => {
  it('names the model, its device and dtype, or none', () => {
    const model = { model: 'SmolLM2-135M-Instruct', family: 'llama', rotary: { type: 'default' }, device: 'cpu', dtype: 'float32' };
    expect(formatStats({ model }, 0, 0)[0]).toBe('model: SmolLM2-135M-Instruct on cpu (float32)');
    expect(formatStats({ model: null }, 0, 0)[0]).toBe('model: none loaded');
  });
});

describe('modelInUse', () => {
  it("names the engine's model by its last path part, with its device", () => {
    expect(modelInUse({ model: { model: '/home/me/models/Qwen2.5-Coder-0.5B/', device: 'cuda:0', dtype: 'bfloat16' } }))
      .toEqual({ model: 'Qwen2.5-Coder-0.5B', device: 'cuda:0' });
    expect(modelInUse({ model: { model: 'SmolLM2-135M-Instruct', device: 'cpu' } })).toEqual({ model: 'SmolLM2-135M-Instruct', device: 'cpu' });
  });

  it('has nothing while no model is loaded', () => {
    expect(modelInUse({ requests: 0, model: null })).toBeUndefined();
    expect(modelInUse({ requests: 0 })).toBeUndefined();
    expect(modelInUse({ model: { family: 'llama' } })).toBeUndefined();
  });
});
