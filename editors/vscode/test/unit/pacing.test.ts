import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DebounceBounds } from '../../src/debounce';
import { RequestPacer, spotAt, type Pace, type Spot } from '../../src/pacing';
import type { ActiveEditor } from '../../src/refresh';
import { CancellationTokenSource, Position, Selection, TextDocument } from '../vscode';

const document = new TextDocument('file:///a.py', 'def add(a, b):\n    ');
const cursor = new Position(1, 4);
const here = spotAt(document, cursor);
const editor = (selections = [new Selection(cursor, cursor)]): ActiveEditor => ({ document, selections });

/** The pace of a request, and whether it has settled after the timers advanced by `ms`. */
function request(pacer: RequestPacer, spot: Spot = here, explicit = false) {
  const source = new CancellationTokenSource();
  let pace: Pace | undefined;
  void pacer.pace(spot, explicit, source.token).then((settled) => { pace = settled; });
  return {
    source,
    after: async (ms: number) => {
      await vi.advanceTimersByTimeAsync(ms);
      return pace;
    },
  };
}

describe('RequestPacer', () => {
  let bounds: DebounceBounds;
  let pacer: RequestPacer;
  beforeEach(() => {
    vi.useFakeTimers();
    bounds = { minMs: 100, maxMs: 400 };
    pacer = new RequestPacer(() => bounds);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('holds a typed request back for the debounce, then lets it go', async () => {
    const typed = request(pacer);
    expect(await typed.after(99)).toBeUndefined();
    expect(await typed.after(1)).toBe('debounced');
  });

  it('never lets a typed request go that was cancelled while it waited', async () => {
    const typed = request(pacer);
    await typed.after(50);
    typed.source.cancel();
    expect(await typed.after(0)).toBe('cancelled');
    const already = new CancellationTokenSource();
    already.cancel();
    expect(await pacer.pace(here, true, already.token)).toBe('cancelled');
  });

  it('lets an explicit request go at once', async () => {
    expect(await request(pacer, here, true).after(0)).toBe('at once');
  });

  it('lets the request at the cursor an accept left go at once, again and again, until the document changes', async () => {
    pacer.acceptedAtCursor(editor());
    expect(await request(pacer).after(0)).toBe('at once');
    expect(await request(pacer).after(0)).toBe('at once');
    expect(await request(pacer, { ...here, character: 3 }).after(0)).toBeUndefined(); // elsewhere: typed
    expect(await request(pacer, { ...here, version: here.version + 1 }).after(0)).toBeUndefined(); // typed on
    expect(await request(pacer, { ...here, uri: 'file:///b.py' }).after(0)).toBeUndefined();
  });

  it('lets a request go that was already waiting where an accept left the cursor, not one elsewhere', async () => {
    const there = request(pacer);
    const elsewhere = request(pacer, { ...here, line: 0 });
    await vi.advanceTimersByTimeAsync(10);
    pacer.acceptedAtCursor(editor());
    expect(await there.after(0)).toBe('at once');
    expect(await elsewhere.after(0)).toBeUndefined();
    expect(await elsewhere.after(90)).toBe('debounced');
  });

  it('takes no accept from a selection, several cursors or no editor', async () => {
    pacer.acceptedAtCursor(undefined);
    pacer.acceptedAtCursor(editor([new Selection(new Position(1, 0), cursor)]));
    pacer.acceptedAtCursor(editor([new Selection(cursor, cursor), new Selection(new Position(0, 1), new Position(0, 1))]));
    expect(await request(pacer).after(0)).toBeUndefined();
  });

  it('adapts the debounce to the answers it observed, within the bounds read at each request', async () => {
    expect(pacer.delayMs).toBe(100); // no answer yet: the minimum
    [300, 320, 280].forEach((latency) => pacer.observe(latency));
    expect(pacer.delayMs).toBe(150);
    const typed = request(pacer);
    expect(await typed.after(149)).toBeUndefined();
    expect(await typed.after(1)).toBe('debounced');
    [2_000, 2_000, 2_000].forEach((latency) => pacer.observe(latency));
    expect(pacer.delayMs).toBe(400);
    bounds = { minMs: 0, maxMs: 250 };
    expect(pacer.delayMs).toBe(250);
  });

  it('lets a typed request go without a timer when the debounce is 0', async () => {
    bounds = { minMs: 0, maxMs: 0 };
    expect(await request(pacer).after(0)).toBe('debounced');
    expect(vi.getTimerCount()).toBe(0);
  });
});
