import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DEBOUNCE, LATENCY_SAMPLES, LATENCY_SHARE, debounceBounds, debounceMs } from '../../src/debounce';

const bounds = { minMs: 20, maxMs: 300 };

describe('debounceMs', () => {
  it('waits the minimum until an answer is measured', () => {
    expect(debounceMs([], bounds)).toBe(20);
  });

  it('waits half the median round trip: shorter when answers are fast, longer when slow', () => {
    expect(LATENCY_SHARE).toBe(0.5);
    expect(debounceMs([90, 110, 100], bounds)).toBe(50);
    expect(debounceMs([400, 380, 420], bounds)).toBe(200);
    expect(debounceMs([100, 120, 140, 160], bounds)).toBe(65); // the median of an even count: the middle two's mean
  });

  it('ignores a lone slow answer (the median, not the mean)', () => {
    expect(debounceMs([100, 30_000, 100], bounds)).toBe(50);
  });

  it('stays within the bounds', () => {
    expect(debounceMs([10, 12, 8], bounds)).toBe(20); // fast answers: the minimum
    expect(debounceMs([2_000, 1_800, 2_200], bounds)).toBe(300); // under load: the maximum
    expect(debounceMs([10], { minMs: 0, maxMs: 300 })).toBe(5);
    expect(debounceMs([2_000], { minMs: 150, maxMs: 150 })).toBe(150); // min = max: fixed
  });

  it('takes only the last LATENCY_SAMPLES answers', () => {
    const slow = Array<number>(LATENCY_SAMPLES).fill(400);
    expect(debounceMs([...slow, 100], bounds)).toBe(200);
    expect(debounceMs([...slow, ...Array<number>(LATENCY_SAMPLES).fill(100)], bounds)).toBe(50);
  });
});

describe('debounceBounds', () => {
  it('reads `{min, max}`', () => {
    expect(debounceBounds({ min: 50, max: 500 })).toEqual({ minMs: 50, maxMs: 500 });
  });

  it('takes the default for a bound that is missing, negative or not a number', () => {
    expect(debounceBounds(undefined)).toEqual(DEFAULT_DEBOUNCE);
    expect(debounceBounds('fast')).toEqual(DEFAULT_DEBOUNCE);
    expect(debounceBounds({ max: 120 })).toEqual({ minMs: DEFAULT_DEBOUNCE.minMs, maxMs: 120 });
    expect(debounceBounds({ min: -5, max: '1s' })).toEqual(DEFAULT_DEBOUNCE);
    expect(debounceBounds({ min: Infinity, max: NaN })).toEqual(DEFAULT_DEBOUNCE);
  });

  it('raises a max below min to min (a fixed wait)', () => {
    expect(debounceBounds({ min: 400, max: 100 })).toEqual({ minMs: 400, maxMs: 400 });
    expect(debounceBounds({ min: 400 })).toEqual({ minMs: 400, maxMs: 400 }); // above the default max
  });

  it("is package.json's default and schema", () => {
    const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
      contributes: { configuration: { properties: Record<string, { default: unknown; properties: Record<string, { minimum: number }> }> } };
    };
    const setting = manifest.contributes.configuration.properties['kvcomplete.debounceMs'];
    expect(debounceBounds(setting.default)).toEqual(DEFAULT_DEBOUNCE);
    expect(setting.default).toEqual({ min: DEFAULT_DEBOUNCE.minMs, max: DEFAULT_DEBOUNCE.maxMs });
    expect(Object.values(setting.properties).map((bound) => bound.minimum)).toEqual([0, 0]);
  });
});
