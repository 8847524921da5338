/**
 * The VS Code side of next edits (the logic is in nextEdits.ts): the shown proposal as decorations (its old text
 * struck through on a red background, its new text after it in green), the others as marks in the overview ruler,
 * the context key of the Tab and Esc keybindings, the cursor, and the edit that applies a proposal.
 */
import * as vscode from 'vscode';
import type { EditorState, NextEditsController, NextEditsHost } from './nextEdits';
import { oneLine, type NextEdit, type NextEditFeedback, type NextEditSet, type Position, type Range } from './nextEditsSet';
import { SECTION, type SERVER_KEYS } from './settings';

export const NEXT_EDIT_COMMAND = 'kvcomplete.nextEdit';
export const DISMISS_NEXT_EDIT_COMMAND = 'kvcomplete.dismissNextEdit';
/** The context key that the keybindings' `when` clauses read. */
export const NEXT_EDIT_VISIBLE = 'kvcomplete.nextEditVisible';
/** The server's option (on: it computes proposals after each edit and sends them), read here too. */
const NEXT_EDITS_SETTING = 'nextEdits' satisfies (typeof SERVER_KEYS)[number];

/** What the view needs of the server session. */
export interface NextEditsServer {
  request(uri: string, position: Position): Promise<NextEditSet | null | undefined>;
  feedback(params: NextEditFeedback): Promise<void>;
}

const toRange = ({ start, end }: Range) => new vscode.Range(start.line, start.character, end.line, end.character);

export class NextEditsView implements NextEditsHost, vscode.Disposable {
  private decorations: { old: vscode.TextEditorDecorationType; others: vscode.TextEditorDecorationType } | undefined;
  private decorated: vscode.TextEditor | undefined;

  constructor(private readonly server: NextEditsServer) {}

  enabled(): boolean {
    return vscode.workspace.getConfiguration(SECTION).get(NEXT_EDITS_SETTING) !== false;
  }

  activeEditor(): EditorState | undefined {
    const editor = vscode.window.activeTextEditor;
    if (editor === undefined) {
      return undefined;
    }
    const { document, selection } = editor;
    return {
      uri: document.uri.toString(),
      version: document.version,
      cursor: { line: selection.active.line, character: selection.active.character },
      textIn: (range) => {
        const wanted = toRange(range);
        return document.validateRange(wanted).isEqual(wanted) ? document.getText(wanted) : undefined;
      },
    };
  }

  draw(shown: NextEdit | undefined, others: NextEdit[]): void {
    const editor = vscode.window.activeTextEditor;
    if (this.decorated !== undefined && this.decorated !== editor) {
      this.clearIn(this.decorated);
    }
    this.decorated = editor;
    if (editor === undefined) {
      return;
    }
    if (shown === undefined) {
      this.clearIn(editor);
      return;
    }
    const { old, others: marks } = this.decorationTypes();
    const after = { contentText: oneLine(shown.newText) };
    editor.setDecorations(old, [{ range: toRange(shown.range), renderOptions: { after } }]);
    editor.setDecorations(marks, others.map((edit) => toRange(edit.range)));
  }

  setVisible(visible: boolean): void {
    void vscode.commands.executeCommand('setContext', NEXT_EDIT_VISIBLE, visible);
  }

  moveCursor(position: Position): void {
    const editor = vscode.window.activeTextEditor;
    if (editor !== undefined) {
      const at = new vscode.Position(position.line, position.character);
      editor.selection = new vscode.Selection(at, at);
      editor.revealRange(new vscode.Range(at, at), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    }
  }

  replace(range: Range, newText: string): Thenable<boolean> {
    const editor = vscode.window.activeTextEditor;
    if (editor === undefined) {
      return Promise.resolve(false);
    }
    const edit = new vscode.WorkspaceEdit();
    edit.replace(editor.document.uri, toRange(range), newText);
    return vscode.workspace.applyEdit(edit);
  }

  request(uri: string, position: Position): Promise<NextEditSet | null | undefined> {
    return this.server.request(uri, position);
  }

  feedback(params: NextEditFeedback): Promise<void> {
    return this.server.feedback(params);
  }

  dispose(): void {
    this.decorations?.old.dispose();
    this.decorations?.others.dispose();
    this.decorations = undefined;
  }

  private clearIn(editor: vscode.TextEditor): void {
    if (this.decorations !== undefined) {
      editor.setDecorations(this.decorations.old, []);
      editor.setDecorations(this.decorations.others, []);
    }
  }

  /** Made on first use: most sessions never show a proposal. */
  private decorationTypes(): { old: vscode.TextEditorDecorationType; others: vscode.TextEditorDecorationType } {
    this.decorations ??= {
      old: vscode.window.createTextEditorDecorationType({
        textDecoration: 'line-through',
        backgroundColor: new vscode.ThemeColor('diffEditor.removedTextBackground'),
        overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.modifiedForeground'),
        overviewRulerLane: vscode.OverviewRulerLane.Center,
        after: { color: new vscode.ThemeColor('gitDecoration.addedResourceForeground'),
          backgroundColor: new vscode.ThemeColor('diffEditor.insertedTextBackground'), margin: '0 0 0 0.5em' },
      }),
      others: vscode.window.createTextEditorDecorationType({
        overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.modifiedForeground'),
        overviewRulerLane: vscode.OverviewRulerLane.Center,
      }),
    };
    return this.decorations;
  }
}

/** The commands and listeners of next edits, for the extension's subscriptions. */
export function nextEditsSubscriptions(controller: NextEditsController, view: NextEditsView): vscode.Disposable[] {
  return [
    view,
    vscode.commands.registerCommand(NEXT_EDIT_COMMAND, () => controller.nextEdit()),
    vscode.commands.registerCommand(DISMISS_NEXT_EDIT_COMMAND, () => controller.dismiss()),
    vscode.workspace.onDidChangeTextDocument(({ document, contentChanges }) =>
      controller.documentChanged(document.uri.toString(), contentChanges)),
    vscode.window.onDidChangeActiveTextEditor(() => controller.activeEditorChanged()),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(`${SECTION}.${NEXT_EDITS_SETTING}`) && !view.enabled()) {
        controller.clear();
      }
    }),
  ];
}
