/**
 * The debounce: how long a request made because the user typed waits before it goes to the server (a key
 * typed meanwhile cancels it, unsent). Which requests wait at all is pacing.ts's business.
 *
 * The rule: half the median round trip of the last LATENCY_SAMPLES answers to such requests, rounded, within
 * the user's bounds (`kvcomplete.debounceMs`, `{min, max}`); `min` until an answer is measured.
 *
 * Why: a request that the next keystroke supersedes is work thrown away (the newest request of a document
 * wins on the server; the older one stops at the engine's next step). When answers come fast (a GPU, a warm
 * cache, type-along) little is thrown away and any wait only delays the ghost text, so the wait is short.
 * When they come slowly (a busy CPU, a large model), each superseded request held the engine for up to its
 * round trip, so waiting half of that lets a burst of keys go by before asking once. The median ignores a lone
 * slow answer (the first request after opening a file encodes its window; one made while the model loads
 * waits for it). VS Code waits a fixed 50 ms of its own before it asks the extension.
 */

export interface DebounceBounds {
  readonly minMs: number;
  readonly maxMs: number;
}

/** package.json's default of `kvcomplete.debounceMs` (a unit test checks that they agree). */
export const DEFAULT_DEBOUNCE: DebounceBounds = { minMs: 0, maxMs: 300 };
/** Answers the median is taken over. */
export const LATENCY_SAMPLES = 7;
/** The share of the median round trip waited. */
export const LATENCY_SHARE = 0.5;

/** The debounce in ms after answers that took `latenciesMs` (the last LATENCY_SAMPLES of them). */
export function debounceMs(latenciesMs: readonly number[], bounds: DebounceBounds): number {
  if (latenciesMs.length === 0) {
    return bounds.minMs;
  }
  const wanted = Math.round(LATENCY_SHARE * median(latenciesMs.slice(-LATENCY_SAMPLES)));
  return Math.min(bounds.maxMs, Math.max(bounds.minMs, wanted));
}

/**
 * The bounds a `kvcomplete.debounceMs` value `{min, max}` sets. VS Code does not enforce a setting's schema,
 * so a missing, negative or non-numeric bound is its default, and a `max` below `min` is `min` (a fixed wait).
 */
export function debounceBounds(value: unknown): DebounceBounds {
  const given = value !== null && typeof value === 'object' ? value as Record<string, unknown> : {};
  const bound = (raw: unknown, fallback: number) =>
    typeof raw === 'number' && Number.isFinite(raw) && raw >= 0 ? raw : fallback;
  const minMs = bound(given.min, DEFAULT_DEBOUNCE.minMs);
  return { minMs, maxMs: Math.max(minMs, bound(given.max, DEFAULT_DEBOUNCE.maxMs)) };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
