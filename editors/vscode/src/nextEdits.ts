/**
 * Next edits on screen: the server proposes edits elsewhere in the document after an edit
 * (`kvcomplete/nextEditsReady`) or when asked (`kvcomplete/nextEdits`); the best one is shown at its place, the
 * next-edit key (Tab while one is shown) jumps to it, and applies it once the cursor is on its lines; Esc dismisses
 * the set. Each accept or dismissal is reported with `kvcomplete/nextEditFeedback`.
 *
 * A set is taken only for the active editor's document at the version it was computed for; from then on its
 * proposals follow the document's edits (nextEditsSet.ts), and an editor of another document becoming active drops
 * it. A proposal is applied
 * only while its place still holds its `oldText`; one whose place changed is dropped. The controller speaks to
 * VS Code through `NextEditsHost` (nextEditsView.ts), so that it is tested without VS Code.
 */
import {
  endOfInsert, nextEditAction, Proposals, stillValid,
  type NextEdit, type NextEditFeedback, type NextEditSet, type Position, type Range, type TextChange,
} from './nextEditsSet';

/** The active editor, as the controller reads it. */
export interface EditorState {
  uri: string;
  version: number;
  cursor: Position;
  /** The document's text in `range`; undefined when the range is not in the document. */
  textIn(range: Range): string | undefined;
}

export interface NextEditsHost {
  /** The `kvcomplete.nextEdits` setting: off, only the sets asked for with the next-edit key are shown. */
  enabled(): boolean;
  activeEditor(): EditorState | undefined;
  /** Show `shown` in the active editor and mark `others` (and nothing elsewhere); undefined: show nothing. */
  draw(shown: NextEdit | undefined, others: NextEdit[]): void;
  /** The context key of the keybindings (`kvcomplete.nextEditVisible`). */
  setVisible(visible: boolean): void;
  moveCursor(position: Position): void;
  /** Replace `range` by `newText` in the active editor's document; whether it was done. */
  replace(range: Range, newText: string): Thenable<boolean>;
  /** Ask the server for the proposals at `position`; null or undefined when there are none. */
  request(uri: string, position: Position): Promise<NextEditSet | null | undefined>;
  feedback(params: NextEditFeedback): Promise<void>;
}

export class NextEditsController {
  private proposals: Proposals | undefined;
  private visible = false;

  constructor(private readonly host: NextEditsHost) {}

  /** A set the server sent after an edit (`kvcomplete/nextEditsReady`). */
  ready(set: NextEditSet): void {
    if (this.host.enabled()) {
      this.show(set);
    }
  }

  /** Show `set` when it is for the active editor as it is now; else it is stale, and ignored. */
  private show(set: NextEditSet): void {
    const editor = this.host.activeEditor();
    if (editor === undefined || editor.uri !== set.uri || editor.version !== set.version) {
      return;
    }
    const valid = (set.edits ?? []).filter((edit) => stillValid(edit, (range) => editor.textIn(range)));
    this.proposals = new Proposals(set.uri, valid);
    this.render();
  }

  /** The document `uri` changed: its proposals follow. */
  documentChanged(uri: string, changes: readonly TextChange[]): void {
    if (this.proposals?.uri === uri) {
      this.proposals.follow(changes);
      this.render();
    }
  }

  /** The setting was turned off. */
  clear(): void {
    this.proposals = undefined;
    this.render();
  }

  /** The active editor changed: an editor of another document drops the set; with none, it is only hidden. */
  activeEditorChanged(): void {
    const editor = this.host.activeEditor();
    if (editor !== undefined && editor.uri !== this.proposals?.uri) {
      this.proposals = undefined;
    }
    this.render();
  }

  /** The next-edit key: ask for proposals when none is shown, else jump to the shown one or apply it. */
  async nextEdit(): Promise<void> {
    const editor = this.host.activeEditor();
    if (editor === undefined) {
      return;
    }
    const shown = this.shownIn(editor.uri);
    const action = nextEditAction(editor.cursor, shown);
    if (action === 'request') {
      const set = await this.host.request(editor.uri, editor.cursor);
      if (set) {
        this.show(set);
      }
    } else if (action === 'jump' && shown !== undefined) {
      this.host.moveCursor(shown.range.start);
    } else if (shown !== undefined) {
      await this.apply(editor, shown);
    }
  }

  /** Dismiss the set; the proposal on screen is reported dismissed (the others were never shown). */
  async dismiss(): Promise<void> {
    const shown = this.proposals?.shown;
    const uri = this.proposals?.uri;
    this.clear();
    if (shown !== undefined && uri !== undefined) {
      await this.host.feedback({ uri, range: shown.range, newText: shown.newText, action: 'dismissed' });
    }
  }

  /**
   * Apply `edit` if its place still holds its old text, else drop it. The accept is reported before the edit,
   * its range as the document has it before, so the server hears of it ahead of the edit's didChange.
   */
  private async apply(editor: EditorState, edit: NextEdit): Promise<void> {
    this.proposals?.remove(edit);
    if (stillValid(edit, (range) => editor.textIn(range))) {
      await this.host.feedback({ uri: editor.uri, range: edit.range, newText: edit.newText, action: 'accepted' });
      if (await this.host.replace(edit.range, edit.newText)) {
        this.host.moveCursor(endOfInsert(edit.range.start, edit.newText));
      }
    }
    this.render();
  }

  private shownIn(uri: string): NextEdit | undefined {
    return this.proposals?.uri === uri ? this.proposals.shown : undefined;
  }

  private render(): void {
    const editor = this.host.activeEditor();
    const shown = editor === undefined ? undefined : this.shownIn(editor.uri);
    this.host.draw(shown, shown === undefined ? [] : this.proposals?.others ?? []);
    if (this.visible !== (shown !== undefined)) {
      this.visible = shown !== undefined;
      this.host.setVisible(this.visible);
    }
  }
}
