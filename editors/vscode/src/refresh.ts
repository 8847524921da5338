/**
 * `kvcomplete/suggestionsChanged`: the server decodes on after it answered, and says so when the suggestions at
 * a cursor grew. LSP has no refresh request for inline completions, so the extension asks VS Code to request
 * again (`editor.action.inlineSuggest.hide`, then `.trigger`), and the server answers at once from what it
 * decoded.
 *
 * Only when the notification is about what is on screen: the active editor shows its document, at its version
 * (the language client sends `document.version` as the LSP version), with one empty selection at its position.
 * Anything else is stale (the user typed or moved on) and is ignored; a request there would supersede the one
 * VS Code makes for the new cursor. Positions are UTF-16, the encoding of VS Code and of its language client.
 */

export const SUGGESTIONS_CHANGED = 'kvcomplete/suggestionsChanged';
export const TRIGGER_INLINE_SUGGEST = 'editor.action.inlineSuggest.trigger';
export const HIDE_INLINE_SUGGEST = 'editor.action.inlineSuggest.hide';

export interface SuggestionsChangedParams {
  uri: string;
  /** The document version the suggestions are for. */
  version: number;
  /** The cursor they are for. */
  position: { line: number; character: number };
}

/** The part of `vscode.TextEditor` the decision reads. */
export interface ActiveEditor {
  readonly document: { readonly uri: { toString(): string }; readonly version: number };
  readonly selections: readonly { readonly isEmpty: boolean; readonly active: { line: number; character: number } }[];
}

/** Whether the suggestions that grew are the ones the active editor would show now. */
export function shouldRetrigger(params: SuggestionsChangedParams, editor: ActiveEditor | undefined): boolean {
  if (editor === undefined || editor.selections.length !== 1) {
    return false;
  }
  const [{ isEmpty, active }] = editor.selections;
  return isEmpty
    && editor.document.uri.toString() === params.uri
    && editor.document.version === params.version
    && active.line === params.position?.line
    && active.character === params.position?.character;
}

/**
 * The notification's handler: re-trigger inline suggestions when `shouldRetrigger`, else nothing. VS Code keeps
 * the inline suggestion it shows at a cursor rather than asking again there (a trigger alone showed no growth in
 * code-server 4.139.1), so the shown one is hidden first; the server answers at once from what it decoded, and
 * the ghost text is gone for a frame or two (25-75 ms in `make e2e-vscode`) before the longer one shows.
 */
export function retriggerWhenCurrent(activeEditor: () => ActiveEditor | undefined,
  executeCommand: (command: string) => Thenable<unknown>): (params: SuggestionsChangedParams) => Promise<void> {
  return async (params) => {
    if (shouldRetrigger(params, activeEditor())) {
      await executeCommand(HIDE_INLINE_SUGGEST);
      await executeCommand(TRIGGER_INLINE_SUGGEST);
    }
  };
}
