import { describe, expect, it } from 'vitest';
import {
  endOfInsert, followChange, nextEditAction, oneLine, Proposals, shiftPosition, stillValid,
  type NextEdit, type Position, type Range, type TextChange,
} from '../../src/nextEditsSet';

const at = (line: number, character: number): Position => ({ line, character });
const range = (l1: number, c1: number, l2: number, c2: number): Range => ({ start: at(l1, c1), end: at(l2, c2) });
const edit = (where: Range, oldText = 'foo', newText = 'bar'): NextEdit => ({ range: where, oldText, newText, score: 1 });
const change = (where: Range, text: string): TextChange => ({ range: where, text });

/** `text` with `change` made, by offsets: the reference the shifting is checked against. */
function apply(text: string, { range: { start, end }, text: inserted }: TextChange): string {
  const offset = (p: Position) => text.split('\n').slice(0, p.line).reduce((sum, line) => sum + line.length + 1, 0) + p.character;
  return text.slice(0, offset(start)) + inserted + text.slice(offset(end));
}
function textIn(text: string, { start, end }: Range): string | undefined {
  const lines = text.split('\n');
  if (end.line >= lines.length || end.character > lines[end.line].length) {
    return undefined;
  }
  const offset = (p: Position) => lines.slice(0, p.line).reduce((sum, line) => sum + line.length + 1, 0) + p.character;
  return text.slice(offset(start), offset(end));
}

describe('positions', () => {
  it('finds where an insert ends, on one line and over several', () => {
    expect(endOfInsert(at(2, 4), 'abc')).toEqual(at(2, 7));
    expect(endOfInsert(at(2, 4), 'abc\nde')).toEqual(at(3, 2));
    expect(endOfInsert(at(2, 4), '\n')).toEqual(at(3, 0));
  });

  it('shifts a position after a change on its line and on lines above', () => {
    expect(shiftPosition(at(1, 10), change(range(1, 2, 1, 5), 'x'))).toEqual(at(1, 8));
    expect(shiftPosition(at(1, 10), change(range(0, 2, 1, 5), 'x'))).toEqual(at(0, 8));
    expect(shiftPosition(at(3, 10), change(range(1, 2, 1, 5), 'x\ny\n'))).toEqual(at(5, 10));
  });
});

describe('followChange', () => {
  const TEXT = 'def foo(a):\n    return foo(a) + 1\nprint(foo(2))';
  const proposal = edit(range(1, 11, 1, 14)); // the second `foo`

  it.each([
    ['typed on a line above', change(range(0, 0, 0, 0), '# x\n')],
    ['typed before it on its line', change(range(1, 4, 1, 4), 'r = ')],
    ['deleted lines above', change(range(0, 0, 1, 0), '')],
    ['a multi-line replace above ending on its line', change(range(0, 3, 1, 4), ' g():\n  pass\n')],
  ])('shifts the proposal when %s, and it still covers its old text', (_what, made) => {
    const moved = followChange(proposal, made);
    expect(moved).toBeDefined();
    expect(textIn(apply(TEXT, made), moved!.range)).toBe('foo');
  });

  it('keeps a proposal the change lies after', () => {
    expect(followChange(proposal, change(range(1, 20, 2, 0), 'x'))).toBe(proposal);
  });

  it.each([
    ['inside it', change(range(1, 12, 1, 13), 'x')],
    ['overlapping its start', change(range(1, 8, 1, 12), '')],
    ['right before it', change(range(1, 11, 1, 11), 'x')],
    ['right after it', change(range(1, 14, 1, 14), 'x')],
    ['around it', change(range(0, 0, 2, 0), '')],
  ])('drops the proposal when the change is %s', (_what, made) => {
    expect(followChange(proposal, made)).toBeUndefined();
  });
});

describe('stillValid', () => {
  it('holds while the place has the old text, and not after a change there or past the end', () => {
    const text = 'x = foo\n';
    expect(stillValid(edit(range(0, 4, 0, 7)), (r) => textIn(text, r))).toBe(true);
    expect(stillValid(edit(range(0, 4, 0, 7)), (r) => textIn('x = fob\n', r))).toBe(false);
    expect(stillValid(edit(range(3, 0, 3, 3)), (r) => textIn(text, r))).toBe(false);
  });
});

describe('nextEditAction', () => {
  const shown = edit(range(4, 2, 5, 1));
  it('asks with nothing shown, applies on its lines, jumps from elsewhere', () => {
    expect(nextEditAction(at(4, 0), undefined)).toBe('request');
    expect(nextEditAction(at(4, 0), shown)).toBe('apply');
    expect(nextEditAction(at(5, 9), shown)).toBe('apply');
    expect(nextEditAction(at(3, 2), shown)).toBe('jump');
    expect(nextEditAction(at(6, 0), shown)).toBe('jump');
  });
});

describe('oneLine', () => {
  it('shows line breaks as ⏎', () => {
    expect(oneLine('a\nb\r\nc')).toBe('a⏎b⏎c');
  });
});

describe('Proposals', () => {
  it('shows the best left, follows changes in order and drops what they touch', () => {
    const first = edit(range(0, 0, 0, 3));
    const second = edit(range(2, 0, 2, 3));
    const third = edit(range(4, 0, 4, 3));
    const proposals = new Proposals('file:///a.py', [first, second, third]);
    expect([proposals.shown, proposals.others]).toEqual([first, [second, third]]);
    proposals.follow([change(range(4, 1, 4, 1), 'x'), change(range(1, 0, 1, 0), '\n')]);
    expect(proposals.shown).toBe(first);
    expect(proposals.others).toEqual([{ ...second, range: range(3, 0, 3, 3) }]);
    proposals.remove(first);
    expect(proposals.shown?.range).toEqual(range(3, 0, 3, 3));
  });
});
