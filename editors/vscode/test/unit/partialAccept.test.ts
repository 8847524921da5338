import { beforeEach, describe, expect, it } from 'vitest';
import type * as vscode from 'vscode';
import { AcceptTracker } from '../../src/accepts';
import { acceptPartially, PARTIAL_ACCEPTS, type EditorEnvironment } from '../../src/partialAccept';
import { commands, fake, TextDocument, window, workspace } from '../vscode';

const WORD = PARTIAL_ACCEPTS['kvcomplete.acceptNextWord'];
const environment: EditorEnvironment = {
  activeDocument: () => window.activeTextEditor?.document as unknown as vscode.TextDocument | undefined,
  executeCommand: (command) => commands.executeCommand(command),
  onDidChangeTextDocument: workspace.onDidChangeTextDocument as unknown as vscode.Event<vscode.TextDocumentChangeEvent>,
};
const item = (insertText: string) => ({ insertText, range: { start: { line: 0, character: 4 }, end: { line: 0, character: 4 } } });

describe('acceptPartially', () => {
  let document: TextDocument;
  let tracker: AcceptTracker;
  beforeEach(() => {
    fake.reset();
    document = new TextDocument('file:///a.py', 'x = ');
    fake.activeDocument = document;
    tracker = new AcceptTracker();
    tracker.offer('file:///a.py', [{ start: 4, item: item('compute(a, b)') }]);
  });

  it("runs VS Code's command and reports the word it inserted", async () => {
    fake.builtins.set(WORD, () => document.insert(4, 'compute('));
    expect(await acceptPartially(WORD, environment, tracker)).toEqual(
      [{ uri: 'file:///a.py', item: item('compute(a, b)'), acceptedText: 'compute(' }]);
    expect(tracker.counts.accepted).toBe(1);
  });

  it('reports nothing for text from another provider, or edits to another document', async () => {
    const other = new TextDocument('file:///b.py', 'x = ');
    fake.builtins.set(WORD, () => {
      document.insert(4, 'something');
      other.insert(4, 'compute(');
    });
    expect(await acceptPartially(WORD, environment, tracker)).toEqual([]);
  });

  it('stops listening even when the command fails', async () => {
    fake.builtins.set(WORD, () => { throw new Error('no inline suggestion'); });
    await expect(acceptPartially(WORD, environment, tracker)).rejects.toThrow('no inline suggestion');
    document.insert(4, 'compute(');
    expect(tracker.counts.accepted).toBe(0);
  });

  it('runs the command without an active editor and reports nothing', async () => {
    fake.activeDocument = undefined;
    let ran = false;
    fake.builtins.set(WORD, () => { ran = true; });
    expect(await acceptPartially(WORD, environment, tracker)).toEqual([]);
    expect(ran).toBe(true);
  });
});
