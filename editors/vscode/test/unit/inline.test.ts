import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type * as vscode from 'vscode';
import { AcceptTracker } from '../../src/accepts';
import { ACCEPTED_COMMAND, inlineCompletionMiddleware, noCompletionItems, withProtocolTriggerKind } from '../../src/inline';
import { RequestPacer } from '../../src/pacing';
import { CancellationTokenSource, InlineCompletionItem, Position, Range, Selection, TextDocument } from '../vscode';

const document = new TextDocument('file:///a.py', 'def add(a, b):\n    ');
const cursor = new Position(1, 4) as unknown as vscode.Position;
const token = () => new CancellationTokenSource().token as unknown as vscode.CancellationToken;
/** VS Code's trigger kinds: Invoke (explicit) 0, Automatic (typing) 1. */
const typed = { triggerKind: 1 } as vscode.InlineCompletionContext;
const explicit = { triggerKind: 0 } as vscode.InlineCompletionContext;
const context = typed;
/** No debounce: these tests are about the answers. */
const atOnce = () => new RequestPacer(() => ({ minMs: 0, maxMs: 0 }));
const at = new Range(cursor, cursor);

/** The middleware with a stand-in for the language client's request (`next`), recording answers. */
function middlewareAnswering(items: InlineCompletionItem[] | null, onNext: () => void = () => undefined) {
  const tracker = new AcceptTracker();
  const answers: [number, number][] = [];
  const middleware = inlineCompletionMiddleware(tracker, atOnce(), (latency, count) => answers.push([latency, count]));
  const provide = (cancel = token()) => middleware(document as unknown as vscode.TextDocument, cursor, context, cancel,
    async () => { onNext(); return items as unknown as vscode.InlineCompletionItem[]; });
  return { tracker, answers, provide };
}

describe('inline completion middleware', () => {
  it('returns all k items, each with the accept command carrying its offer', async () => {
    const items = ['return a + b', 'return a - b', 'pass'].map((text) => new InlineCompletionItem(text, at));
    const { tracker, answers, provide } = middlewareAnswering(items);
    const result = await provide();
    expect(result).toBe(items);
    expect(items.map((item) => item.command?.command)).toEqual([ACCEPTED_COMMAND, ACCEPTED_COMMAND, ACCEPTED_COMMAND]);
    const offers = items.map((item) => item.command?.arguments?.[0] as ReturnType<AcceptTracker['offer']>[number]);
    expect(offers.map((offer) => [offer.start, offer.item.insertText])).toEqual(
      [[19, 'return a + b'], [19, 'return a - b'], [19, 'pass']]);
    expect(offers[0].item.range).toEqual({ start: { line: 1, character: 4 }, end: { line: 1, character: 4 } });
    expect(answers).toHaveLength(1);
    expect(answers[0][1]).toBe(3);
    expect(tracker.full(offers[2])?.acceptedText).toBe('pass');
  });

  it('offers an item without a range at the cursor', async () => {
    const item = new InlineCompletionItem('pass');
    await middlewareAnswering([item]).provide();
    expect((item.command?.arguments?.[0] as { start: number }).start).toBe(19);
  });

  it('drops an answer that arrives after cancellation, uncounted', async () => {
    const source = new CancellationTokenSource();
    const { tracker, answers, provide } = middlewareAnswering([new InlineCompletionItem('pass', at)], () => source.cancel());
    expect(await provide(source.token)).toBeNull();
    expect(answers).toEqual([]);
    expect(tracker.counts.answers).toBe(0);
  });

  it('counts an empty answer for latency but not as an offer', async () => {
    const { tracker, answers, provide } = middlewareAnswering([]);
    expect(await provide()).toEqual([]);
    expect(answers.map(([, count]) => count)).toEqual([0]);
    expect(tracker.counts.answers).toBe(0);
  });

  it("hands the language client LSP's trigger kind, which its converter copies unchanged", async () => {
    const contexts: vscode.InlineCompletionContext[] = [];
    const middleware = inlineCompletionMiddleware(new AcceptTracker(), atOnce(), () => undefined);
    const invoke = { triggerKind: 0, selectedCompletionInfo: undefined } as unknown as vscode.InlineCompletionContext;
    await middleware(document as unknown as vscode.TextDocument, cursor, invoke, token(), async (_d, _p, handed) => {
      contexts.push(handed);
      return [];
    });
    expect(contexts.map((handed) => handed.triggerKind)).toEqual([1]); // LSP Invoked
    expect(withProtocolTriggerKind({ triggerKind: 1 } as unknown as vscode.InlineCompletionContext).triggerKind).toBe(2); // Automatic
  });

  it('is written for the vscode-languageclient that copies the trigger kind (9.0.1)', () => {
    // A newer client may convert the trigger kind itself (11.0.0 does): then withProtocolTriggerKind must go.
    const client = JSON.parse(readFileSync(join(__dirname, '..', '..', 'node_modules', 'vscode-languageclient', 'package.json'), 'utf8')) as { version: string };
    expect(client.version).toBe('9.0.1');
  });

  it('holds a typed request back for the debounce; one cancelled meanwhile never reaches the server', async () => {
    vi.useFakeTimers();
    try {
      const pacer = new RequestPacer(() => ({ minMs: 200, maxMs: 200 }));
      const asked: string[] = [];
      const middleware = inlineCompletionMiddleware(new AcceptTracker(), pacer, () => undefined);
      const provide = (handed: vscode.InlineCompletionContext, cancel: vscode.CancellationToken, text: string) =>
        middleware(document as unknown as vscode.TextDocument, cursor, handed, cancel, async () => {
          asked.push(text);
          return [];
        });
      const source = new CancellationTokenSource();
      const superseded = provide(typed, source.token, 'superseded');
      const waited = provide(typed, token(), 'typed');
      await vi.advanceTimersByTimeAsync(100);
      source.cancel();
      expect(await superseded).toBeNull();
      expect(asked).toEqual([]);
      await vi.advanceTimersByTimeAsync(100);
      expect(await waited).toEqual([]);
      expect(asked).toEqual(['typed']);
      expect(await provide(explicit, token(), 'explicit')).toEqual([]); // at once, no timer advanced
      expect(asked).toEqual(['typed', 'explicit']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('adapts the debounce to the answers of typed requests only', async () => {
    const pacer = atOnce();
    const observed = vi.spyOn(pacer, 'observe');
    const middleware = inlineCompletionMiddleware(new AcceptTracker(), pacer, () => undefined);
    const provide = (handed: vscode.InlineCompletionContext) =>
      middleware(document as unknown as vscode.TextDocument, cursor, handed, token(), async () => []);
    await provide(typed);
    expect(observed).toHaveBeenCalledTimes(1);
    await provide(explicit);
    pacer.acceptedAtCursor({ document, selections: [new Selection(cursor, cursor)] });
    await provide(typed); // where an accept left the cursor: at once, from the server's prefetch
    expect(observed).toHaveBeenCalledTimes(1);
  });

  it('never asks the server for completion items', () => {
    let asked = false;
    const next = () => { asked = true; return []; };
    expect(noCompletionItems(document as unknown as vscode.TextDocument, cursor, {} as vscode.CompletionContext, token(), next)).toBeUndefined();
    expect(asked).toBe(false);
  });
});
