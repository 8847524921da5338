/**
 * The VS Code side of next edits with the vscode API replaced by test/vscode.ts: decorations, the context key,
 * the cursor, the applied edit, and the listeners and commands of `nextEditsSubscriptions`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type * as vscode from 'vscode';
import { NextEditsController } from '../../src/nextEdits';
import type { NextEditFeedback, NextEditSet } from '../../src/nextEditsSet';
import {
  DISMISS_NEXT_EDIT_COMMAND, NEXT_EDIT_COMMAND, NEXT_EDIT_VISIBLE, nextEditsSubscriptions, NextEditsView,
} from '../../src/nextEditsView';
import { commands, fake, Position, Selection, TextDocument } from '../vscode';

const URI = 'file:///a.py';
const rename = (line: number, score: number) => ({
  range: { start: { line, character: 6 }, end: { line, character: 11 } }, oldText: 'total', newText: 'amount', score,
});

let document: TextDocument;
let feedbacks: NextEditFeedback[];
let answers: (NextEditSet | undefined)[];
let controller: NextEditsController;
let subscriptions: vscode.Disposable[];

/** The decorations now set: the shown proposal's (with its `after` text) and the marks of the others. */
function decorations(): { shown: { line: number; start: number; end: number; after?: string }[]; marks: number[] } {
  const [shown, marks] = [fake.decorations.get('decoration1') ?? [], fake.decorations.get('decoration2') ?? []];
  return {
    shown: shown.map(({ range, renderOptions }) =>
      ({ line: range.start.line, start: range.start.character, end: range.end.character, after: renderOptions?.after?.contentText })),
    marks: marks.map(({ range }) => range.start.line),
  };
}

beforeEach(() => {
  fake.reset();
  fake.decorationTypes = 0;
  document = new TextDocument(URI, 'def amount(xs):\n    return sum(xs)\nprint(total([1]))\nprint(total([2]))');
  fake.activeDocument = document;
  fake.selections = [new Selection(new Position(0, 10), new Position(0, 10))];
  feedbacks = [];
  answers = [];
  const view = new NextEditsView({ request: async (): Promise<NextEditSet | undefined> => answers.shift(), feedback: async (params) => { feedbacks.push(params); } });
  controller = new NextEditsController(view);
  subscriptions = nextEditsSubscriptions(controller, view);
});
afterEach(() => {
  for (const subscription of subscriptions) {
    subscription.dispose();
  }
});

describe('NextEditsView', () => {
  it('strikes the old text with the new text after it, marks the others, and sets the context key', () => {
    controller.ready({ uri: URI, version: document.version, edits: [rename(2, 0.9), rename(3, 0.8)] });
    expect(decorations()).toEqual({ shown: [{ line: 2, start: 6, end: 11, after: 'amount' }], marks: [3] });
    expect(fake.contexts.get(NEXT_EDIT_VISIBLE)).toBe(true);
  });

  it('jumps, applies through a workspace edit, reports it, and shows the next proposal', async () => {
    controller.ready({ uri: URI, version: document.version, edits: [rename(2, 0.9), rename(3, 0.8)] });
    await commands.executeCommand(NEXT_EDIT_COMMAND);
    expect(fake.selections[0].active).toEqual(new Position(2, 6));
    await commands.executeCommand(NEXT_EDIT_COMMAND);
    expect(document.text.split('\n')[2]).toBe('print(amount([1]))');
    expect(fake.selections[0].active).toEqual(new Position(2, 12));
    expect(feedbacks.map(({ action, range }) => [action, range.start.line])).toEqual([['accepted', 2]]);
    expect(decorations()).toEqual({ shown: [{ line: 3, start: 6, end: 11, after: 'amount' }], marks: [] });
  });

  it('follows typing elsewhere and drops a proposal typed into', () => {
    controller.ready({ uri: URI, version: document.version, edits: [rename(2, 0.9), rename(3, 0.8)] });
    document.insert(0, '# sum\n');
    expect(decorations().shown[0].line).toBe(3);
    document.insert(document.offsetAt(new Position(3, 8)), 'x');
    expect(decorations()).toEqual({ shown: [{ line: 4, start: 6, end: 11, after: 'amount' }], marks: [] });
  });

  it('dismisses on command, clearing the decorations and the context key', async () => {
    controller.ready({ uri: URI, version: document.version, edits: [rename(2, 0.9)] });
    await commands.executeCommand(DISMISS_NEXT_EDIT_COMMAND);
    expect(decorations()).toEqual({ shown: [], marks: [] });
    expect(fake.contexts.get(NEXT_EDIT_VISIBLE)).toBe(false);
    expect(feedbacks.map(({ action }) => action)).toEqual(['dismissed']);
  });

  it('asks on command when nothing is shown, and clears when an editor of another document becomes active', async () => {
    answers.push({ uri: URI, version: document.version, edits: [rename(3, 0.5)] });
    await commands.executeCommand(NEXT_EDIT_COMMAND);
    expect(decorations().shown).toHaveLength(1);
    fake.activeDocument = new TextDocument('file:///b.py', 'x = 1');
    fake.activeEditorChanges.fire(undefined);
    fake.activeDocument = document;
    fake.activeEditorChanges.fire(undefined);
    expect(decorations().shown).toEqual([]);
    expect(fake.contexts.get(NEXT_EDIT_VISIBLE)).toBe(false);
  });

  it('shows nothing and clears once the setting is off', () => {
    controller.ready({ uri: URI, version: document.version, edits: [rename(2, 0.9)] });
    fake.changeSettings({ nextEdits: false });
    expect(decorations().shown).toEqual([]);
    controller.ready({ uri: URI, version: document.version, edits: [rename(2, 0.9)] });
    expect(decorations().shown).toEqual([]);
  });
});
