/**
 * Next edits without VS Code: the protocol's types, how the proposals of a set follow the document's edits, when
 * one may still be applied, and what the next-edit key does. An edit elsewhere shifts a proposal's range; an edit
 * that overlaps it or meets it at an end drops it (typing right at a proposal is editing its place). Positions are
 * LSP positions in UTF-16 code units, the encoding of VS Code and of its language client, and of JS strings.
 */

export const NEXT_EDITS = 'kvcomplete/nextEdits';
export const NEXT_EDITS_READY = 'kvcomplete/nextEditsReady';
export const NEXT_EDIT_FEEDBACK = 'kvcomplete/nextEditFeedback';

export interface Position { line: number; character: number }
export interface Range { start: Position; end: Position }

/** One proposal: replace `range` (which held `oldText` when the set was computed) by `newText`. */
export interface NextEdit { range: Range; oldText: string; newText: string; score: number }

/** The answer of `kvcomplete/nextEdits` and the params of `kvcomplete/nextEditsReady`: best first. */
export interface NextEditSet { uri: string; version: number; edits: NextEdit[] }

export interface NextEditFeedback { uri: string; range: Range; newText: string; action: 'accepted' | 'dismissed' }

/** A change of the document as VS Code reports it: `range` (before the change) replaced by `text`. */
export interface TextChange { range: Range; text: string }

/** What the next-edit key does: ask the server (nothing shown), go to the shown proposal, or apply it. */
export type NextEditAction = 'request' | 'jump' | 'apply';

export function comparePositions(a: Position, b: Position): number {
  return a.line - b.line || a.character - b.character;
}

/** Where `text` inserted at `start` ends. */
export function endOfInsert(start: Position, text: string): Position {
  const lines = text.split('\n');
  const last = lines[lines.length - 1].length;
  return lines.length === 1 ? { line: start.line, character: start.character + last } : { line: start.line + lines.length - 1, character: last };
}

/** `position` (at or after the end of `change.range`) once `change` is made. */
export function shiftPosition(position: Position, change: TextChange): Position {
  const end = change.range.end;
  const newEnd = endOfInsert(change.range.start, change.text);
  return position.line === end.line
    ? { line: newEnd.line, character: newEnd.character + position.character - end.character }
    : { line: position.line + newEnd.line - end.line, character: position.character };
}

/** `edit` once `change` is made: shifted when the change lies before it, the same after it, dropped when touched. */
export function followChange(edit: NextEdit, change: TextChange): NextEdit | undefined {
  if (comparePositions(change.range.end, edit.range.start) < 0) {
    const range = { start: shiftPosition(edit.range.start, change), end: shiftPosition(edit.range.end, change) };
    return { ...edit, range };
  }
  return comparePositions(change.range.start, edit.range.end) > 0 ? edit : undefined;
}

/** Whether `edit` may be applied: its place still holds the text it replaces. `textIn` reads the document. */
export function stillValid(edit: NextEdit, textIn: (range: Range) => string | undefined): boolean {
  return textIn(edit.range) === edit.oldText;
}

/** The next-edit key applies the shown proposal when the cursor is on one of its lines, else jumps to it. */
export function nextEditAction(cursor: Position, shown: NextEdit | undefined): NextEditAction {
  if (shown === undefined) {
    return 'request';
  }
  return cursor.line >= shown.range.start.line && cursor.line <= shown.range.end.line ? 'apply' : 'jump';
}

/** `newText` on one line, as an `after` decoration can show it: line breaks as ⏎. */
export function oneLine(newText: string): string {
  return newText.replace(/\r?\n/g, '⏎');
}

/** The proposals of one document, best first, following its edits. */
export class Proposals {
  constructor(readonly uri: string, private edits: NextEdit[]) {}

  /** The proposal on screen: the best one left. */
  get shown(): NextEdit | undefined {
    return this.edits[0];
  }

  /** The others, marked in the overview ruler. */
  get others(): NextEdit[] {
    return this.edits.slice(1);
  }

  /** The document changed: VS Code's changes of one event, in order. */
  follow(changes: readonly TextChange[]): void {
    for (const change of changes) {
      this.edits = this.edits.map((edit) => followChange(edit, change)).filter((edit): edit is NextEdit => edit !== undefined);
    }
  }

  remove(edit: NextEdit): void {
    this.edits = this.edits.filter((other) => other !== edit);
  }
}
