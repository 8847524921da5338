/**
 * Partial accepts: `kvcomplete.acceptNextWord` / `kvcomplete.acceptNextLine` run VS Code's own command
 * (bound to the same key, so nothing changes for the user) and watch what it inserts; the stable API has
 * no partial-accept hook. The inserted text is matched to a kvcomplete suggestion by `AcceptTracker`; text
 * from another inline provider matches none and is not reported.
 */
import type * as vscode from 'vscode';
import type { AcceptTracker, DidAcceptParams } from './accepts';

export const PARTIAL_ACCEPTS = {
  'kvcomplete.acceptNextWord': 'editor.action.inlineSuggest.acceptNextWord',
  'kvcomplete.acceptNextLine': 'editor.action.inlineSuggest.acceptNextLine',
} as const;

export interface EditorEnvironment {
  activeDocument(): vscode.TextDocument | undefined;
  executeCommand(command: string): Thenable<unknown>;
  onDidChangeTextDocument: vscode.Event<vscode.TextDocumentChangeEvent>;
}

/** Run VS Code's partial-accept `command`; returns what it accepted of kvcomplete's suggestions. */
export async function acceptPartially(command: string, env: EditorEnvironment,
  tracker: AcceptTracker): Promise<DidAcceptParams[]> {
  const document = env.activeDocument();
  const changes: vscode.TextDocumentContentChangeEvent[] = [];
  const listener = env.onDidChangeTextDocument((event) => {
    if (event.document === document) {
      changes.push(...event.contentChanges);
    }
  });
  try {
    await env.executeCommand(command);
  } finally {
    listener.dispose();
  }
  if (document === undefined) {
    return [];
  }
  const text = document.getText();
  const uri = document.uri.toString();
  return changes
    .map((change) => tracker.partial(uri, change.rangeOffset, change.text, (start, end) => text.slice(start, end)))
    .filter((params): params is DidAcceptParams => params !== undefined);
}
