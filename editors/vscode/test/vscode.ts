/**
 * The `vscode` module for unit tests (vitest aliases `vscode` to this file): the part of the API the
 * extension uses, in memory. Tests drive it through `fake`: settings, the active document, the commands'
 * effects, and what was shown to the user.
 */

export class Position {
  constructor(readonly line: number, readonly character: number) {}
}

export class Range {
  readonly start: Position;
  readonly end: Position;
  constructor(start: Position | number, end: Position | number, endLine?: number, endCharacter?: number) {
    const both = typeof start === 'number' && typeof end === 'number';
    this.start = both ? new Position(start, end) : start as Position;
    this.end = both ? new Position(endLine ?? 0, endCharacter ?? 0) : end as Position;
  }
  isEqual(other: Range): boolean {
    return ['start', 'end'].every((key) => {
      const [a, b] = [this[key as 'start'], other[key as 'start']];
      return a.line === b.line && a.character === b.character;
    });
  }
}

export class Selection {
  constructor(readonly anchor: Position, readonly active: Position) {}
  get isEmpty(): boolean {
    return this.anchor.line === this.active.line && this.anchor.character === this.active.character;
  }
}

export class InlineCompletionItem {
  command?: { title: string; command: string; arguments?: unknown[] };
  constructor(public insertText: string, public range?: Range) {}
}

export class Disposable {
  constructor(private readonly onDispose: () => void) {}
  dispose(): void {
    this.onDispose();
  }
}

type Listener<T> = (event: T) => unknown;

export class EventEmitter<T> {
  private listeners: Listener<T>[] = [];
  readonly event = (listener: Listener<T>): Disposable => {
    this.listeners.push(listener);
    return new Disposable(() => {
      this.listeners = this.listeners.filter((other) => other !== listener);
    });
  };

  fire(event: T): void {
    this.listeners.forEach((listener) => listener(event));
  }
}

export class CancellationTokenSource {
  private readonly cancelled = new EventEmitter<void>();
  readonly token = {
    isCancellationRequested: false,
    onCancellationRequested: this.cancelled.event,
  };
  cancel(): void {
    if (!this.token.isCancellationRequested) {
      this.token.isCancellationRequested = true;
      this.cancelled.fire();
    }
  }
}

export class Uri {
  private constructor(private readonly value: string) {}
  static parse(value: string): Uri {
    return new Uri(value);
  }
  toString(): string {
    return this.value;
  }
}

/** A text document over a string, with VS Code's UTF-16 offsets and a version that each change increments. */
export class TextDocument {
  readonly uri: Uri;
  version = 1;
  constructor(uri: string, public text: string) {
    this.uri = Uri.parse(uri);
  }
  getText(range?: Range): string {
    return range === undefined ? this.text : this.text.slice(this.offsetAt(range.start), this.offsetAt(range.end));
  }
  /** The range clipped to the document, by lines and their lengths. */
  validateRange(range: Range): Range {
    const lines = this.text.split('\n');
    const clip = ({ line, character }: Position) => {
      const at = Math.min(line, lines.length - 1);
      return new Position(at, Math.min(character, lines[at].length));
    };
    return new Range(clip(range.start), clip(range.end));
  }
  offsetAt(position: Position): number {
    const lines = this.text.split('\n');
    return lines.slice(0, position.line).reduce((sum, line) => sum + line.length + 1, 0) + position.character;
  }
  positionAt(offset: number): Position {
    const before = this.text.slice(0, offset).split('\n');
    return new Position(before.length - 1, before[before.length - 1].length);
  }
  /** Insert `text` at `offset` and tell the `onDidChangeTextDocument` listeners, as VS Code does. */
  insert(offset: number, text: string): void {
    this.replace(offset, offset, text);
  }
  /** Replace the text between two offsets and tell the `onDidChangeTextDocument` listeners. */
  replace(start: number, end: number, text: string): void {
    const range = new Range(this.positionAt(start), this.positionAt(end));
    this.text = this.text.slice(0, start) + text + this.text.slice(end);
    this.version += 1;
    fake.changes.fire({ document: this, contentChanges: [{ range, rangeOffset: start, rangeLength: end - start, text }] });
  }
}

export enum StatusBarAlignment { Left = 1, Right = 2 }
export enum OverviewRulerLane { Left = 1, Center = 2, Right = 4, Full = 7 }
export enum TextEditorRevealType { Default = 0, InCenter = 1, InCenterIfOutsideViewport = 2, AtTop = 3 }

export class ThemeColor {
  constructor(readonly id: string) {}
}

/** The edits of a `workspace.applyEdit`, applied to `fake.activeDocument` when the URI is its. */
export class WorkspaceEdit {
  readonly replaces: { uri: Uri; range: Range; text: string }[] = [];
  replace(uri: Uri, range: Range, text: string): void {
    this.replaces.push({ uri, range, text });
  }
}

interface DecorationOptions { range: Range; renderOptions?: { after?: { contentText?: string } } }

/** The active editor: its document, its cursors (`fake.selections`), and the decorations set in it. */
class TextEditor {
  constructor(readonly document: TextDocument) {}
  get selections(): Selection[] {
    return fake.selections;
  }
  get selection(): Selection {
    return fake.selections[0];
  }
  set selection(selection: Selection) {
    fake.selections = [selection];
  }
  setDecorations(type: { key: string }, decorations: (Range | DecorationOptions)[]): void {
    fake.decorations.set(type.key, decorations.map((item) => (item instanceof Range ? { range: item } : item)));
  }
  revealRange(): void {}
}

export interface StatusBarItem { text: string; tooltip?: string; command?: string; show(): void; dispose(): void }

type Handler = (...args: unknown[]) => unknown;

/** The in-memory state behind the API, for tests to set up and inspect. */
export const fake = {
  settings: new Map<string, unknown>(),
  commands: new Map<string, Handler>(),
  /** What `executeCommand` does for commands that are VS Code's own (not registered by the extension). */
  builtins: new Map<string, Handler>(),
  messages: [] as { kind: 'info' | 'warning' | 'error'; message: string; detail?: string }[],
  output: [] as string[],
  statusItems: [] as StatusBarItem[],
  activeDocument: undefined as TextDocument | undefined,
  /** The active editor's selections (its cursors). */
  selections: [] as Selection[],
  changes: new EventEmitter<{ document: TextDocument;
    contentChanges: { range: Range; rangeOffset: number; rangeLength: number; text: string }[] }>(),
  configuration: new EventEmitter<{ affectsConfiguration(section: string): boolean }>(),
  closes: new EventEmitter<TextDocument>(),
  activeEditorChanges: new EventEmitter<TextEditor | undefined>(),
  editors: new Map<TextDocument, TextEditor>(),
  /** Decorations per decoration type (`key`), as last set in an editor. */
  decorations: new Map<string, DecorationOptions[]>(),
  decorationTypes: 0,
  /** The context keys set with `setContext`. */
  contexts: new Map<string, unknown>(),
  reset(settings: Record<string, unknown> = {}): void {
    this.settings = new Map(Object.entries(settings));
    this.commands.clear();
    this.builtins.clear();
    this.messages = [];
    this.output = [];
    this.statusItems = [];
    this.activeDocument = undefined;
    this.selections = [];
    this.editors.clear();
    this.decorations.clear();
    this.contexts.clear();
  },
  /** Change settings and fire `onDidChangeConfiguration` for them. */
  changeSettings(changes: Record<string, unknown>): void {
    Object.entries(changes).forEach(([key, value]) => this.settings.set(key, value));
    const changed = Object.keys(changes).map((key) => `kvcomplete.${key}`);
    this.configuration.fire({
      affectsConfiguration: (section) => changed.some((key) => key === section || key.startsWith(`${section}.`)),
    });
  },
};

export const window = {
  get activeTextEditor() {
    const document = fake.activeDocument;
    if (document !== undefined && !fake.editors.has(document)) {
      fake.editors.set(document, new TextEditor(document));
    }
    return document && fake.editors.get(document);
  },
  onDidChangeActiveTextEditor: fake.activeEditorChanges.event,
  createTextEditorDecorationType: (options: object) => {
    fake.decorationTypes += 1;
    return { key: `decoration${fake.decorationTypes}`, options, dispose: () => undefined };
  },
  createOutputChannel: (name: string) => ({
    name,
    append: (text: string) => fake.output.push(text),
    appendLine: (text: string) => fake.output.push(text),
    show: () => undefined,
    dispose: () => undefined,
  }),
  createStatusBarItem: (): StatusBarItem => {
    const item = { text: '', show: () => undefined, dispose: () => undefined };
    fake.statusItems.push(item);
    return item;
  },
  showInformationMessage: async (message: string, options?: { detail?: string }) => {
    fake.messages.push({ kind: 'info', message, detail: options?.detail });
    return undefined;
  },
  showWarningMessage: async (message: string) => {
    fake.messages.push({ kind: 'warning', message });
    return undefined;
  },
  showErrorMessage: async (message: string) => {
    fake.messages.push({ kind: 'error', message });
    return undefined;
  },
};

export const commands = {
  registerCommand: (command: string, handler: Handler) => {
    if (fake.commands.has(command)) {
      throw new Error(`command ${command} already exists`);
    }
    fake.commands.set(command, handler);
    return new Disposable(() => fake.commands.delete(command));
  },
  executeCommand: async (command: string, ...args: unknown[]) => {
    if (command === 'setContext') {
      fake.contexts.set(args[0] as string, args[1]);
      return undefined;
    }
    const handler = fake.commands.get(command) ?? fake.builtins.get(command);
    if (handler === undefined) {
      throw new Error(`command '${command}' not found`);
    }
    return handler(...args);
  },
};

export const workspace = {
  getConfiguration: (section: string) => ({
    get: (key: string) => (section === 'kvcomplete' ? fake.settings.get(key) : undefined),
  }),
  onDidChangeTextDocument: fake.changes.event,
  onDidChangeConfiguration: fake.configuration.event,
  onDidCloseTextDocument: fake.closes.event,
  applyEdit: async (edit: WorkspaceEdit) => {
    const document = fake.activeDocument;
    if (document === undefined || edit.replaces.some(({ uri }) => uri.toString() !== document.uri.toString())) {
      return false;
    }
    for (const { range, text } of edit.replaces) {
      document.replace(document.offsetAt(range.start), document.offsetAt(range.end), text);
    }
    return true;
  },
};
