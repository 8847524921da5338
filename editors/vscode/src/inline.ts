/**
 * Inline completions go through vscode-languageclient's own inline completion feature (client.ts switches it
 * on): it is the only provider registered, so no item is shown twice. This middleware wraps it: it holds a
 * typed request back for the debounce (pacing.ts), times each answer, records the offered items and gives each
 * one the command VS Code runs when it is accepted in full.
 *
 * The language client sends `$/cancelRequest` when VS Code cancels the token; an answer that arrives after
 * that is dropped here, uncounted. The server's `textDocument/completion` fallback is switched off:
 * its items would repeat the ghost text in the suggest widget, and each of its requests would supersede
 * the inline one on the server (the newest request of a document wins).
 */
import type * as vscode from 'vscode';
import type { Middleware } from 'vscode-languageclient';
import type { AcceptTracker, OfferedItem } from './accepts';
import { spotAt, type RequestPacer } from './pacing';

export const ACCEPTED_COMMAND = 'kvcomplete.accepted';
/** VS Code's `InlineCompletionTriggerKind.Invoke`, an explicit request (a type-only import has no enum values). */
const INVOKE: vscode.InlineCompletionTriggerKind = 0;

type InlineMiddleware = NonNullable<Middleware['provideInlineCompletionItems']>;

/** Called with each answer that was not cancelled: its round trip and how many items it had. */
export type AnswerListener = (latencyMs: number, items: number) => void;

export function inlineCompletionMiddleware(tracker: AcceptTracker, pacer: RequestPacer, onAnswer: AnswerListener): InlineMiddleware {
  return async (document, position, context, token, next) => {
    const pace = await pacer.pace(spotAt(document, position), context.triggerKind === INVOKE, token);
    if (pace === 'cancelled') {
      return null;
    }
    const started = performance.now();
    const result = await next(document, position, withProtocolTriggerKind(context), token);
    if (token.isCancellationRequested || !result) {
      return null;
    }
    const latencyMs = performance.now() - started;
    const items = Array.isArray(result) ? result : result.items;
    const plain = items.filter((item) => typeof item.insertText === 'string');
    if (plain.length > 0) {
      const offers = tracker.offer(document.uri.toString(), plain.map((item) => {
        const range = item.range ?? { start: position, end: position };
        return { start: document.offsetAt(range.start), item: offeredItem(item.insertText as string, range) };
      }));
      plain.forEach((item, rank) => {
        item.command = { title: 'kvcomplete: suggestion accepted', command: ACCEPTED_COMMAND, arguments: [offers[rank]] };
      });
    }
    if (pace === 'debounced') {
      pacer.observe(latencyMs);
    }
    onAnswer(latencyMs, items.length);
    return result;
  };
}

/**
 * vscode-languageclient 9.0.1 copies VS Code's trigger kind number into the request, but the two enums
 * differ (VS Code: Invoke 0, Automatic 1; LSP: Invoked 1, Automatic 2), so cycling with Alt+] (an explicit
 * request) sent 0, which the server rejects as invalid params. The client is handed the LSP number instead.
 */
export function withProtocolTriggerKind(context: vscode.InlineCompletionContext): vscode.InlineCompletionContext {
  return { ...context, triggerKind: context.triggerKind + 1 };
}

/** The completion fallback's middleware: never asks the server (see the module comment). */
export const noCompletionItems: NonNullable<Middleware['provideCompletionItem']> = () => undefined;

function offeredItem(insertText: string, range: vscode.Range | { start: vscode.Position; end: vscode.Position }): OfferedItem {
  const point = (position: vscode.Position) => ({ line: position.line, character: position.character });
  return { insertText, range: { start: point(range.start), end: point(range.end) } };
}
