/**
 * When an inline completion request goes to the server. Only a request made because the user typed waits the
 * debounce (debounce.ts), which adapts to the round trips of the answers to such requests. A request nobody
 * typed for goes at once:
 *
 * - an explicit one (VS Code's Invoke): the re-trigger after `kvcomplete/suggestionsChanged` (refresh.ts),
 *   `Alt+]` fetching the other suggestions, `Alt+\`;
 * - the one at the cursor an accept left: VS Code asks again by itself after `Tab` (its commit command) and
 *   after a partial accept, as an automatic request, while the server has been decoding from that cursor
 *   since the accept (its prefetch). The accept commands tell the pacer where the cursor went; a request
 *   there, at that document version, goes at once, and one already waiting there is let go.
 *
 * The accept commands do not run `editor.action.inlineSuggest.trigger` themselves: that would make the
 * request explicit, and VS Code takes an explicit answer at a cursor as the answer to every later trigger
 * there (VS Code 1.139 `InlineCompletionsSource.fetch`), so the re-trigger after `suggestionsChanged` could no
 * longer show the ghost text growing.
 */
import { debounceMs, LATENCY_SAMPLES, type DebounceBounds } from './debounce';
import type { ActiveEditor } from './refresh';

/** A cursor in one version of a document. */
export interface Spot {
  readonly uri: string;
  readonly version: number;
  readonly line: number;
  readonly character: number;
}

/** How a request went: at once, after the debounce, or not at all (cancelled while it waited). */
export type Pace = 'at once' | 'debounced' | 'cancelled';

/** The part of `vscode.CancellationToken` the wait reads. */
export interface Cancellation {
  readonly isCancellationRequested: boolean;
  onCancellationRequested(listener: () => unknown): { dispose(): unknown };
}

interface Waiting {
  readonly spot: Spot;
  readonly release: () => void;
}

export function spotAt(document: { readonly uri: { toString(): string }; readonly version: number },
  position: { readonly line: number; readonly character: number }): Spot {
  return { uri: document.uri.toString(), version: document.version, line: position.line, character: position.character };
}

function sameSpot(a: Spot, b: Spot): boolean {
  return a.uri === b.uri && a.version === b.version && a.line === b.line && a.character === b.character;
}

export class RequestPacer {
  private acceptedAt: Spot | undefined;
  private latenciesMs: number[] = [];
  private readonly waiting = new Set<Waiting>();

  /** `bounds` is read at each request, so a settings change applies to the next one. */
  constructor(private readonly bounds: () => DebounceBounds) {}

  /** The debounce a typed request waits now. */
  get delayMs(): number {
    return debounceMs(this.latenciesMs, this.bounds());
  }

  /** Wait as the request at `spot` should (see the module comment); `explicit`: VS Code's Invoke trigger. */
  async pace(spot: Spot, explicit: boolean, token: Cancellation): Promise<Pace> {
    if (token.isCancellationRequested) {
      return 'cancelled';
    }
    if (explicit || (this.acceptedAt !== undefined && sameSpot(spot, this.acceptedAt))) {
      return 'at once';
    }
    const delayMs = this.delayMs;
    if (delayMs <= 0) {
      return 'debounced';
    }
    return new Promise<Pace>((resolve) => {
      const waiting: Waiting = { spot, release: () => finish('at once') };
      const timer = setTimeout(() => finish('debounced'), delayMs);
      const cancelled = token.onCancellationRequested(() => finish('cancelled')); // not yet: checked above
      const finish = (pace: Pace) => {
        clearTimeout(timer);
        cancelled.dispose();
        this.waiting.delete(waiting);
        resolve(pace);
      };
      this.waiting.add(waiting);
    });
  }

  /** The round trip of an answer to a request that `pace` debounced: the debounce adapts to it. */
  observe(latencyMs: number): void {
    this.latenciesMs = [...this.latenciesMs, latencyMs].slice(-LATENCY_SAMPLES);
  }

  /**
   * An accept left `editor`'s cursor where it is now: the next request there goes at once (a request already
   * waiting there is let go). Nothing with no editor or with a selection or several cursors.
   */
  acceptedAtCursor(editor: ActiveEditor | undefined): void {
    if (editor === undefined || editor.selections.length !== 1 || !editor.selections[0].isEmpty) {
      return;
    }
    const spot = spotAt(editor.document, editor.selections[0].active);
    this.acceptedAt = spot;
    [...this.waiting].filter((waiting) => sameSpot(waiting.spot, spot)).forEach((waiting) => waiting.release());
  }
}
