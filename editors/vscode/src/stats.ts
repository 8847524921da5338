/**
 * The `kvcomplete/stats` answer: the model in use and the ghost-text timings, for the status bar, and every key
 * as lines for people. The server may add keys (docs/lsp.md), so every key is shown, in the server's order;
 * nested objects (`latencyMs`) on one line, the model in a short phrase, `null` (nothing measured yet) as `–`.
 */
import { acceptanceRate } from './status';

export const STATS_METHOD = 'kvcomplete/stats';

/** The loaded model's short name and device (`model` is the engine's info, null while none is loaded). */
export function modelInUse(stats: Record<string, unknown>): { model: string; device: string } | undefined {
  const info = stats.model;
  if (info === null || typeof info !== 'object') {
    return undefined;
  }
  const { model, device } = info as Record<string, unknown>;
  if (typeof model !== 'string' || typeof device !== 'string') {
    return undefined;
  }
  return { model: model.replace(/[\\/]+$/, '').split(/[\\/]/).pop() || model, device };
}

/** Server-side p50s (ms): request to first ghost text, and to the final, finished suggestions. */
export interface Timings {
  firstAnswerMs?: number;
  finalSuggestionMs?: number;
}

/** The p50s of `firstAnswerMs` and `finalSuggestionMs`; a timing not measured yet (null) is left out. */
export function timings(stats: Record<string, unknown>): Timings {
  const p50 = (key: keyof Timings) => {
    const entry = stats[key];
    const value = entry !== null && typeof entry === 'object' ? (entry as Record<string, unknown>).p50 : undefined;
    return typeof value === 'number' ? { [key]: value } : {};
  };
  return { ...p50('firstAnswerMs'), ...p50('finalSuggestionMs') };
}

export function formatStats(stats: Record<string, unknown>, answers: number, accepted: number): string[] {
  const lines = Object.entries(stats).map(([key, value]) => `${key}: ${key === 'model' ? formatModel(stats) : formatValue(value)}`);
  lines.push(`accepted here: ${accepted} of ${answers} answers (${acceptanceRate({ answers, accepted })})`);
  return lines;
}

/** The model in one short phrase; the engine's info has more (rotary, layers...) than people want here. */
function formatModel(stats: Record<string, unknown>): string {
  const loaded = modelInUse(stats);
  if (loaded === undefined) {
    return 'none loaded';
  }
  const { dtype } = stats.model as Record<string, unknown>;
  return `${loaded.model} on ${loaded.device}${typeof dtype === 'string' ? ` (${dtype})` : ''}`;
}

function formatValue(value: unknown): string {
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).map(([key, inner]) => `${key} ${formatValue(inner)}`).join(', ');
  }
  return value === null ? '–' : `${value as string | number | boolean}`; // JSON's other values
}
