/**
 * The status-bar item: model, device, last latency and acceptance rate, and in its tooltip the server's p50
 * times to the first ghost text and to the final suggestion; a click shows the server's stats.
 * `statusText` and `statusTooltip` are plain functions of the state; `StatusBar` only pushes them to VS Code.
 */
import type * as vscode from 'vscode';
import type { Timings } from './stats';

export type Phase = 'starting' | 'ready' | 'failed' | 'stopped';

export interface StatusState extends Timings {
  phase: Phase;
  model?: string;
  device?: string;
  error?: string;
  /** Round trip of the last answered inline completion request. */
  latencyMs?: number;
  /** Non-empty answers, and those with a suggestion accepted (fully or in part). */
  answers: number;
  accepted: number;
}

export const SHOW_STATS_COMMAND = 'kvcomplete.showStats';

/** The acceptance rate as a percentage, or `–` before the first answer. */
export function acceptanceRate(state: Pick<StatusState, 'answers' | 'accepted'>): string {
  return state.answers === 0 ? '–' : `${Math.round((100 * state.accepted) / state.answers)}%`;
}

export function statusText(state: StatusState): string {
  switch (state.phase) {
    case 'starting':
      return '$(loading~spin) kvcomplete';
    case 'failed':
      return '$(error) kvcomplete';
    case 'stopped':
      return '$(circle-slash) kvcomplete';
    case 'ready': {
      const latency = state.latencyMs === undefined ? '– ms' : `${Math.round(state.latencyMs)} ms`;
      return `$(sparkle) ${state.model} · ${state.device} · ${latency} · ${acceptanceRate(state)}`;
    }
  }
}

export function statusTooltip(state: StatusState): string {
  const lines: Record<Phase, string> = {
    starting: 'kvcomplete: starting the server and loading the model',
    failed: `kvcomplete: ${state.error ?? 'failed'} (more in the kvcomplete output)`,
    stopped: 'kvcomplete: the server is not running (kvcomplete: Restart Server)',
    ready: `kvcomplete: ${state.model} on ${state.device}; last answer ${milliseconds(state.latencyMs)}; accepted from `
      + `${state.accepted} of ${state.answers} answers\nserver p50: first ghost text ${milliseconds(state.firstAnswerMs)}, `
      + `final suggestion ${milliseconds(state.finalSuggestionMs)}`,
  };
  return `${lines[state.phase]}\nClick for the server's stats.`;
}

function milliseconds(value: number | undefined): string {
  return value === undefined ? '–' : `${value.toFixed(0)} ms`;
}

export class StatusBar {
  private state: StatusState = { phase: 'starting', answers: 0, accepted: 0 };

  constructor(private readonly item: vscode.StatusBarItem) {
    item.command = SHOW_STATS_COMMAND;
    this.render();
    item.show();
  }

  get current(): Readonly<StatusState> {
    return this.state;
  }

  update(change: Partial<StatusState>): void {
    this.state = { ...this.state, ...change };
    this.render();
  }

  private render(): void {
    this.item.text = statusText(this.state);
    this.item.tooltip = statusTooltip(this.state);
  }
}
