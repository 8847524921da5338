import { describe, expect, it } from 'vitest';
import {
  HIDE_INLINE_SUGGEST, retriggerWhenCurrent, shouldRetrigger, TRIGGER_INLINE_SUGGEST, type ActiveEditor,
} from '../../src/refresh';
import { Position, Selection, TextDocument } from '../vscode';

const URI = 'file:///a.py';
const document = new TextDocument(URI, 'def add(a, b):\n    ret');
document.version = 7;
const cursor = new Position(1, 7);
const editor = (selections = [new Selection(cursor, cursor)], doc = document): ActiveEditor => ({ document: doc, selections });
const params = (change: Partial<{ uri: string; version: number; line: number; character: number }> = {}) => ({
  uri: change.uri ?? URI,
  version: change.version ?? 7,
  position: { line: change.line ?? 1, character: change.character ?? 7 },
});

describe('shouldRetrigger', () => {
  it('re-triggers for the active document, at its version, with the one empty cursor at the position', () => {
    expect(shouldRetrigger(params(), editor())).toBe(true);
  });

  it.each([
    ['another document', params({ uri: 'file:///b.py' })],
    ['an older version', params({ version: 6 })],
    ['a newer version', params({ version: 8 })],
    ['another line', params({ line: 0 })],
    ['another column', params({ character: 6 })],
  ])('ignores a notification for %s', (_what, stale) => {
    expect(shouldRetrigger(stale, editor())).toBe(false);
  });

  it('ignores it without an editor, with a selection, or with several cursors', () => {
    expect(shouldRetrigger(params(), undefined)).toBe(false);
    expect(shouldRetrigger(params(), editor([new Selection(new Position(1, 4), cursor)]))).toBe(false);
    expect(shouldRetrigger(params(), editor([new Selection(cursor, cursor), new Selection(new Position(0, 1), new Position(0, 1))])))
      .toBe(false);
  });
});

describe('retriggerWhenCurrent', () => {
  it('hides the shown suggestion and runs the inline-suggest trigger for a current notification only', async () => {
    const ran: string[] = [];
    const handle = retriggerWhenCurrent(() => editor(), async (command) => ran.push(command));
    await handle(params({ version: 6 }));
    expect(ran).toEqual([]);
    await handle(params());
    expect(ran).toEqual([HIDE_INLINE_SUGGEST, TRIGGER_INLINE_SUGGEST]);
  });

  it('reads the active editor when the notification comes, not before', async () => {
    const ran: string[] = [];
    const editors: ActiveEditor[] = [];
    const handle = retriggerWhenCurrent(() => editors.at(-1), async (command) => ran.push(command));
    await handle(params());
    editors.push(editor());
    await handle(params());
    expect(ran).toEqual([HIDE_INLINE_SUGGEST, TRIGGER_INLINE_SUGGEST]);
  });
});
