/**
 * The `vscode` module for unit tests (vitest aliases `vscode` to this file): the part of the API the
 * extension uses, in memory. Tests drive it through `fake`: settings, the active document, the commands'
 * effects, and what was shown to the user.
 */

export class Position {
  constructor(readonly line: number, readonly character: number) {}
}

export class Range {
  constructor(readonly start: Position, readonly end: Position) {}
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
  getText(): string {
    return this.text;
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
    this.text = this.text.slice(0, offset) + text + this.text.slice(offset);
    this.version += 1;
    fake.changes.fire({ document: this, contentChanges: [{ rangeOffset: offset, rangeLength: 0, text }] });
  }
}

export enum StatusBarAlignment { Left = 1, Right = 2 }

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
  changes: new EventEmitter<{ document: TextDocument; contentChanges: { rangeOffset: number; rangeLength: number; text: string }[] }>(),
  configuration: new EventEmitter<{ affectsConfiguration(section: string): boolean }>(),
  closes: new EventEmitter<TextDocument>(),
  reset(settings: Record<string, unknown> = {}): void {
    this.settings = new Map(Object.entries(settings));
    this.commands.clear();
    this.builtins.clear();
    this.messages = [];
    this.output = [];
    this.statusItems = [];
    this.activeDocument = undefined;
    this.selections = [];
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
    return fake.activeDocument && { document: fake.activeDocument, selections: fake.selections };
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
};
