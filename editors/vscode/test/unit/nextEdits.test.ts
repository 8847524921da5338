/**
 * The next-edit controller against a recording host: a document over a string whose edits reach the controller
 * as VS Code's change events do, and what was drawn, reported, asked and where the cursor went.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { NextEditsController, type EditorState, type NextEditsHost } from '../../src/nextEdits';
import type { NextEdit, NextEditFeedback, NextEditSet, Position, Range } from '../../src/nextEditsSet';

const URI = 'file:///a.py';
const TEXT = 'def total(xs):\n    return sum(xs)\n\nprint(total([1]))\nprint(total([2]))';
const range = (line: number, start: number, end: number): Range =>
  ({ start: { line, character: start }, end: { line, character: end } });
const proposal = (line: number, start: number, oldText: string, newText: string, score = 1): NextEdit =>
  ({ range: range(line, start, start + oldText.length), oldText, newText, score });
// A rename of `total` to `amount` made once, on line 0: the two calls are proposed, line 3's first.
const CALL_3 = proposal(3, 6, 'total', 'amount', 0.9);
const CALL_4 = proposal(4, 6, 'total', 'amount', 0.8);

class Host implements NextEditsHost {
  text = TEXT;
  version = 3;
  uri = URI;
  cursor: Position = { line: 0, character: 10 };
  on = true;
  drawn: { shown: NextEdit | undefined; others: NextEdit[] } = { shown: undefined, others: [] };
  visible: boolean[] = [];
  feedbacks: NextEditFeedback[] = [];
  requests: [string, Position][] = [];
  answer: NextEditSet | null = null;
  controller = new NextEditsController(this);

  enabled = () => this.on;
  activeEditor = (): EditorState | undefined => ({ uri: this.uri, version: this.version, cursor: this.cursor, textIn: (r: Range) => this.textIn(r) });
  draw = (shown: NextEdit | undefined, others: NextEdit[]) => { this.drawn = { shown, others }; };
  setVisible = (visible: boolean) => { this.visible.push(visible); };
  moveCursor = (position: Position) => { this.cursor = position; };
  request = async (uri: string, position: Position) => {
    this.requests.push([uri, position]);
    return this.answer;
  };
  feedback = async (params: NextEditFeedback) => { this.feedbacks.push(params); };
  replace = async (where: Range, newText: string) => {
    this.edit(where, newText);
    return true;
  };

  /** Edit the document as a user or an applied edit does; the controller hears of it as from VS Code. */
  edit(where: Range, newText: string): void {
    this.text = this.text.slice(0, this.offset(where.start)) + newText + this.text.slice(this.offset(where.end));
    this.version += 1;
    this.controller.documentChanged(this.uri, [{ range: where, text: newText }]);
  }

  line(index: number): string {
    return this.text.split('\n')[index];
  }

  private offset(p: Position): number {
    return this.text.split('\n').slice(0, p.line).reduce((sum, line) => sum + line.length + 1, 0) + p.character;
  }

  private textIn({ start, end }: Range): string | undefined {
    const lines = this.text.split('\n');
    return end.line < lines.length && end.character <= lines[end.line].length
      ? this.text.slice(this.offset(start), this.offset(end)) : undefined;
  }
}

let host: Host;
const ready = (edits: NextEdit[], change: Partial<NextEditSet> = {}) =>
  host.controller.ready({ uri: URI, version: host.version, edits, ...change });

beforeEach(() => {
  host = new Host();
});

describe('NextEditsController', () => {
  it('shows the best proposal of a current set, and the others as marks', () => {
    ready([CALL_3, CALL_4]);
    expect(host.drawn).toEqual({ shown: CALL_3, others: [CALL_4] });
    expect(host.visible).toEqual([true]);
  });

  it.each([
    ['another document', { uri: 'file:///b.py' }],
    ['an older version', { version: 2 }],
  ])('ignores a set for %s', (_what, change) => {
    ready([CALL_3], change);
    expect(host.drawn.shown).toBeUndefined();
    expect(host.visible).toEqual([]);
  });

  it('ignores the sets the server sends while the setting is off, and shows those asked for', async () => {
    host.on = false;
    ready([CALL_3]);
    expect(host.drawn.shown).toBeUndefined();
    host.answer = { uri: URI, version: host.version, edits: [CALL_4] };
    await host.controller.nextEdit();
    expect(host.drawn.shown).toEqual(CALL_4);
  });

  it('leaves out proposals whose old text is not at their place', () => {
    ready([proposal(3, 6, 'totl', 'amount'), CALL_4]);
    expect(host.drawn).toEqual({ shown: CALL_4, others: [] });
  });

  it('Tab jumps to the proposal, then applies it and shows the next, then jumps and applies that one', async () => {
    ready([CALL_3, CALL_4]);
    await host.controller.nextEdit();
    expect(host.cursor).toEqual(CALL_3.range.start);
    expect(host.line(3)).toBe('print(total([1]))');
    await host.controller.nextEdit();
    expect(host.line(3)).toBe('print(amount([1]))');
    expect(host.cursor).toEqual({ line: 3, character: 12 }); // after the new text
    expect(host.drawn.shown).toEqual(CALL_4);
    await host.controller.nextEdit();
    expect(host.cursor).toEqual(CALL_4.range.start);
    await host.controller.nextEdit();
    expect(host.text.split('\n').slice(3)).toEqual(['print(amount([1]))', 'print(amount([2]))']);
    expect(host.drawn.shown).toBeUndefined();
    expect(host.visible).toEqual([true, false]);
    expect(host.feedbacks).toEqual([
      { uri: URI, range: CALL_3.range, newText: 'amount', action: 'accepted' },
      { uri: URI, range: CALL_4.range, newText: 'amount', action: 'accepted' },
    ]);
  });

  it('shifts the proposals after an edit elsewhere, and applies at the new place', async () => {
    ready([CALL_3]);
    host.edit(range(1, 0, 0), '    # the sum\n');
    expect(host.drawn.shown?.range).toEqual(range(4, 6, 11));
    host.cursor = { line: 4, character: 0 };
    await host.controller.nextEdit();
    expect(host.line(4)).toBe('print(amount([1]))');
  });

  it('drops a proposal whose place was edited, and shows the next', () => {
    ready([CALL_3, CALL_4]);
    host.edit(range(3, 8, 8), 'x');
    expect(host.drawn).toEqual({ shown: CALL_4, others: [] });
  });

  it('never applies a proposal whose place no longer holds its old text', async () => {
    ready([CALL_3, CALL_4]);
    // A change the controller did not hear of (as if its event had not come yet).
    host.text = host.text.replace('print(total([1]))', 'print(totem([1]))');
    host.cursor = { line: 3, character: 0 };
    await host.controller.nextEdit();
    expect(host.line(3)).toBe('print(totem([1]))');
    expect(host.feedbacks).toEqual([]);
    expect(host.drawn.shown).toEqual(CALL_4);
  });

  it('Esc dismisses the set and reports the shown proposal only', async () => {
    ready([CALL_3, CALL_4]);
    await host.controller.dismiss();
    expect(host.drawn.shown).toBeUndefined();
    expect(host.visible).toEqual([true, false]);
    expect(host.feedbacks).toEqual([{ uri: URI, range: CALL_3.range, newText: 'amount', action: 'dismissed' }]);
    await host.controller.nextEdit(); // nothing shown: the key asks
    expect(host.requests).toEqual([[URI, host.cursor]]);
  });

  it('asks at the cursor when nothing is shown, and shows the answer', async () => {
    host.answer = { uri: URI, version: host.version, edits: [CALL_4] };
    await host.controller.nextEdit();
    expect(host.requests).toEqual([[URI, { line: 0, character: 10 }]]);
    expect(host.drawn.shown).toEqual(CALL_4);
  });

  it('drops the set when an editor of another document becomes active, and only hides it with no editor', () => {
    ready([CALL_3]);
    const active = host.activeEditor;
    host.activeEditor = () => undefined;
    host.controller.activeEditorChanged();
    expect(host.drawn.shown).toBeUndefined();
    host.activeEditor = active;
    host.controller.activeEditorChanged();
    expect(host.drawn.shown).toEqual(CALL_3);
    host.uri = 'file:///b.py';
    host.controller.activeEditorChanged();
    expect(host.drawn.shown).toBeUndefined();
    host.uri = URI;
    host.controller.activeEditorChanged();
    expect(host.drawn.shown).toBeUndefined();
  });
});
