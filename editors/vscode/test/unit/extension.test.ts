/**
 * The wiring of extension.ts with the vscode API (test/vscode.ts) and the language client replaced by
 * recording stand-ins: what the extension asks of them, not what they do (the integration test has that).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type * as vscode from 'vscode';
import { activate, deactivate, RESTART_COMMAND } from '../../src/extension';
import { ACCEPTED_COMMAND } from '../../src/inline';
import { CancellationTokenSource, commands, fake, InlineCompletionItem, Position, Range, Selection, TextDocument } from '../vscode';

const clients = vi.hoisted(() => [] as FakeClient[]);

interface FakeClient {
  server: { command: string; args: string[] };
  proposedFeatures: boolean;
  changeState(newState: number): void;
  options: { initializationOptions: Record<string, unknown>; middleware: Record<string, (...args: unknown[]) => unknown> };
  running: boolean;
  notifications: [string, unknown][];
  /** The handlers of the server's notifications, by method. */
  handlers: Map<string, (params: unknown) => unknown>;
  logHandler?: (params: { type: number; message: string }) => void;
  /** The stats the server answers with. */
  stats: Record<string, unknown>;
  statsAsked: number;
  /** The params of each `kvcomplete/nextEdits` request, and the answer. */
  nextEditRequests: unknown[];
  nextEdits: unknown;
}

vi.mock('vscode-languageclient/node', () => {
  class LanguageClient implements FakeClient {
    running = false;
    proposedFeatures = false;
    notifications: [string, unknown][] = [];
    handlers = new Map<string, (params: unknown) => unknown>();
    stats: Record<string, unknown> = { requests: 2, model: { model: '/models/tiny', device: 'cpu' }, latencyMs: { p50: 12, p95: 30 } };
    statsAsked = 0;
    nextEditRequests: unknown[] = [];
    nextEdits: unknown = null;
    get logHandler() {
      return this.handlers.get('window/logMessage') as FakeClient['logHandler'];
    }
    constructor(_id: string, _name: string, readonly server: FakeClient['server'], readonly options: FakeClient['options']) {
      clients.push(this);
    }
    stateListeners: ((event: { newState: number }) => void)[] = [];
    start = async () => {
      if (this.server.command.includes('missing')) {
        this.stateListeners.forEach((listener) => listener({ newState: 1 }));
        throw new Error(`spawn ${this.server.command} ENOENT`);
      }
      this.running = true;
    };
    stop = async () => { this.running = false; };
    isRunning = () => this.running;
    registerProposedFeatures = () => { this.proposedFeatures = true; };
    onDidChangeState = (listener: (event: { newState: number }) => void) => {
      this.stateListeners.push(listener);
      return { dispose: () => undefined };
    };
    /** The client's state changes as the language client reports them (after a failed start, too). */
    changeState(newState: number) {
      this.stateListeners.forEach((listener) => listener({ newState }));
    }
    onNotification = (type: string | { method: string }, handler: (params: unknown) => void) => {
      this.handlers.set(typeof type === 'string' ? type : type.method, handler);
    };
    sendNotification = async (type: string | { method: string }, params: unknown) => {
      this.notifications.push([typeof type === 'string' ? type : type.method, params]);
    };
    sendRequest = async (method: string, params: unknown) => {
      if (method === 'kvcomplete/nextEdits') {
        this.nextEditRequests.push(params);
        return this.nextEdits;
      }
      expect([method, params]).toEqual(['kvcomplete/stats', undefined]);
      this.statsAsked += 1;
      return this.stats;
    };
  }
  return {
    LanguageClient,
    State: { Stopped: 1, Starting: 3, Running: 2 },
    LogMessageNotification: { type: { method: 'window/logMessage' } },
    DidChangeConfigurationNotification: { type: { method: 'workspace/didChangeConfiguration' } },
  };
});

const SETTINGS = { serverPath: '/venv/bin/kvcomplete', model: '', suggestions: 3, maxTokens: 16, logLevel: 'info' };
const context = () => ({ subscriptions: [] as { dispose(): unknown }[] }) as unknown as vscode.ExtensionContext;

async function shutDown(extension: vscode.ExtensionContext): Promise<void> {
  await deactivate();
  for (const subscription of extension.subscriptions) {
    subscription.dispose();
  }
}
const latest = () => clients[clients.length - 1];
const statusText = () => fake.statusItems[0].text;

/** VS Code's trigger kinds: Invoke (explicit) 0, Automatic (typing) 1. */
const TYPED = { triggerKind: 1 };
const EXPLICIT = { triggerKind: 0 };

/** Ask the active client's middleware for inline items at `cursor`, answered with `texts` by a stand-in `next`. */
function provide(document: TextDocument, cursor: Position, texts: string[], context = TYPED,
  token = new CancellationTokenSource().token): { items: InlineCompletionItem[]; answered: Promise<unknown> } {
  const items = texts.map((text) => new InlineCompletionItem(text, new Range(cursor, cursor)));
  const answered = Promise.resolve(latest().options.middleware.provideInlineCompletionItems(document, cursor, context, token,
    async () => items));
  return { items, answered };
}

/** Ask for inline items at the end of `document`, explicitly (no debounce), and wait for the answer. */
async function offer(document: TextDocument, texts: string[]): Promise<InlineCompletionItem[]> {
  const { items, answered } = provide(document, document.positionAt(document.text.length), texts, EXPLICIT);
  await answered;
  return items;
}

/** Whether `promise` settles while the event loop runs once more (a debounced request stays pending). */
async function settlesNow(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(() => { settled = true; });
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

describe('extension', () => {
  let extension: vscode.ExtensionContext;
  beforeEach(async () => {
    clients.length = 0;
    fake.reset(SETTINGS);
    extension = context();
    await activate(extension);
  });
  afterEach(() => shutDown(extension));

  it('starts `serverPath serve` with the server options as initializationOptions', async () => {
    expect(clients).toHaveLength(1);
    expect(latest().server).toEqual({ command: '/venv/bin/kvcomplete', args: ['serve'] }); // no `--stdio`
    expect(latest().proposedFeatures).toBe(true); // the language client's inline completion feature
    expect(latest().options.initializationOptions).toEqual({ model: null, suggestions: 3, maxTokens: 16, logLevel: 'info' });
    expect(statusText()).toBe('$(loading~spin) kvcomplete');
    await deactivate();
    expect(latest().running).toBe(false);
  });

  it('shows the model once the server logs it ready, then latency and acceptance', async () => {
    latest().logHandler?.({ type: 3, message: 'kvcomplete.lsp_server.server: loading the default model' });
    expect(statusText()).toBe('$(loading~spin) kvcomplete');
    latest().logHandler?.({ type: 3, message: "kvcomplete.lsp_server.server: model ready: {'model': '/models/tiny'}" });
    await vi.waitFor(() => expect(statusText()).toBe('$(sparkle) tiny · cpu · – ms · –'));
    const items = await offer(new TextDocument('file:///a.py', 'x = '), ['1', '2']);
    expect(statusText()).toMatch(/^\$\(sparkle\) tiny · cpu · \d+ ms · 0%$/);
    await commands.executeCommand(ACCEPTED_COMMAND, ...(items[1].command?.arguments ?? []));
    expect(statusText()).toMatch(/ · 100%$/);
  });

  it('sends didAccept for a full accept and for a partial one', async () => {
    const document = new TextDocument('file:///a.py', 'x = ');
    fake.activeDocument = document;
    const items = await offer(document, ['compute(a, b)']);
    fake.builtins.set('editor.action.inlineSuggest.acceptNextWord', () => document.insert(4, 'compute('));
    await commands.executeCommand('kvcomplete.acceptNextWord');
    await commands.executeCommand(ACCEPTED_COMMAND, items[0].command?.arguments?.[0]);
    const range = { start: { line: 0, character: 4 }, end: { line: 0, character: 4 } };
    expect(latest().notifications).toEqual([
      ['kvcomplete/didAccept', { uri: 'file:///a.py', item: { insertText: 'compute(a, b)', range }, acceptedText: 'compute(' }],
      ['kvcomplete/didAccept', { uri: 'file:///a.py', item: { insertText: 'compute(a, b)', range }, acceptedText: 'a, b)' }],
    ]);
  });

  it('sends one didAccept when a word accept takes the whole suggestion (VS Code then runs the item command too)', async () => {
    const document = new TextDocument('file:///a.py', 'x = ');
    fake.activeDocument = document;
    const [item] = await offer(document, ['compute']);
    fake.builtins.set('editor.action.inlineSuggest.acceptNextWord', async () => {
      document.insert(4, 'compute');
      await commands.executeCommand(ACCEPTED_COMMAND, item.command?.arguments?.[0]);
    });
    await commands.executeCommand('kvcomplete.acceptNextWord');
    expect(latest().notifications.map(([method, params]) => [method, (params as { acceptedText: string }).acceptedText]))
      .toEqual([['kvcomplete/didAccept', 'compute']]);
  });

  it('sends changed settings as didChangeConfiguration, and restarts for a new server path', async () => {
    fake.changeSettings({ maxTokens: 8, model: '/models/qwen' });
    await vi.waitFor(() => expect(latest().notifications).toHaveLength(1));
    expect(latest().notifications[0]).toEqual(['workspace/didChangeConfiguration',
      { settings: { model: '/models/qwen', suggestions: 3, maxTokens: 8, logLevel: 'info' } }]);
    const first = latest();
    fake.changeSettings({ serverPath: '/other/kvcomplete' });
    await vi.waitFor(() => expect(clients).toHaveLength(2));
    expect(first.running).toBe(false);
    expect(latest().server.command).toBe('/other/kvcomplete');
  });

  it('restarts the server on command', async () => {
    await commands.executeCommand(RESTART_COMMAND);
    expect(clients).toHaveLength(2);
    expect(clients.map((client) => client.running)).toEqual([false, true]);
  });

  it('shows the stats in a dialog and the output', async () => {
    await commands.executeCommand('kvcomplete.showStats');
    expect(fake.messages).toEqual([{ kind: 'info', message: 'kvcomplete stats',
      detail: 'requests: 2\nmodel: tiny on cpu\nlatencyMs: p50 12, p95 30\naccepted here: 0 of 0 answers (–)' }]);
    expect(fake.output.at(-1)).toContain('requests: 2; model: tiny on cpu; latencyMs');
  });

  it('explains a missing server path instead of starting', async () => {
    await shutDown(extension);
    clients.length = 0;
    fake.reset({ ...SETTINGS, serverPath: '' });
    extension = context();
    await activate(extension);
    expect(clients).toEqual([]);
    expect(statusText()).toBe('$(error) kvcomplete');
    expect(fake.statusItems[0].tooltip).toContain('kvcomplete.serverPath is empty');
    await commands.executeCommand('kvcomplete.showStats');
    expect(fake.messages.map(({ kind }) => kind)).toEqual(['warning']);
    expect(fake.messages[0].message).toContain('not running');
  });

  it('shows a server that cannot start as failed, even once the client reports it stopped', async () => {
    fake.changeSettings({ serverPath: '/missing/kvcomplete' });
    await vi.waitFor(() => expect(fake.statusItems[0].tooltip).toContain('spawn /missing/kvcomplete ENOENT'));
    latest().changeState(1);
    expect(statusText()).toBe('$(error) kvcomplete');
    expect(fake.output.at(-1)).toContain('check kvcomplete.serverPath');
  });

  it('shows a model that failed to load, with the reason', () => {
    latest().logHandler?.({ type: 1, message: 'kvcomplete.lsp_server.server: no model: cannot read /models/x' });
    expect(statusText()).toBe('$(error) kvcomplete');
    expect(fake.statusItems[0].tooltip).toContain('no model: cannot read /models/x');
  });

  it('follows the client: a crash shows stopped, its automatic restart starting', async () => {
    latest().logHandler?.({ type: 3, message: "kvcomplete.lsp_server.server: model ready: {'model': 'tiny'}" });
    await vi.waitFor(() => expect(statusText()).toContain('tiny'));
    latest().changeState(1);
    expect(statusText()).toBe('$(circle-slash) kvcomplete');
    latest().changeState(3);
    expect(statusText()).toBe('$(loading~spin) kvcomplete');
  });

  it('re-triggers inline suggestions when the suggestions at the cursor grew, and only then', async () => {
    const document = new TextDocument('file:///a.py', 'x = ');
    fake.activeDocument = document;
    const cursor = new Position(0, 4);
    fake.selections = [new Selection(cursor, cursor)];
    let triggered = 0;
    let hidden = 0;
    fake.builtins.set('editor.action.inlineSuggest.hide', () => { hidden += 1; });
    fake.builtins.set('editor.action.inlineSuggest.trigger', () => { triggered += 1; });
    const changed = latest().handlers.get('kvcomplete/suggestionsChanged');
    expect(changed).toBeDefined();
    await changed?.({ uri: 'file:///a.py', version: 1, position: { line: 0, character: 4 } });
    expect([hidden, triggered]).toEqual([1, 1]);
    document.insert(4, 'c'); // typed on: the notification for version 1 is stale
    fake.selections = [new Selection(new Position(0, 5), new Position(0, 5))];
    await changed?.({ uri: 'file:///a.py', version: 1, position: { line: 0, character: 4 } });
    await changed?.({ uri: 'file:///a.py', version: 2, position: { line: 0, character: 4 } });
    expect([hidden, triggered]).toEqual([1, 1]);
    await changed?.({ uri: 'file:///a.py', version: 2, position: { line: 0, character: 5 } });
    expect([hidden, triggered]).toEqual([2, 2]);
  });

  it("shows the server's first-ghost-text and final-suggestion p50s in the tooltip, asked again after answers", async () => {
    latest().stats = { ...latest().stats, firstAnswerMs: { p50: null, p95: null }, finalSuggestionMs: { p50: null, p95: null } };
    latest().logHandler?.({ type: 3, message: "kvcomplete.lsp_server.server: model ready: {'model': 'tiny'}" });
    await vi.waitFor(() => expect(statusText()).toContain('tiny'));
    expect(fake.statusItems[0].tooltip).toContain('first ghost text –, final suggestion –');
    latest().stats = { ...latest().stats, firstAnswerMs: { p50: 180.4, p95: 420 }, finalSuggestionMs: { p50: 1250, p95: 2600 } };
    const asked = latest().statsAsked;
    await offer(new TextDocument('file:///a.py', 'x = '), ['1']);
    await vi.waitFor(() => expect(fake.statusItems[0].tooltip).toContain('first ghost text 180 ms, final suggestion 1250 ms'));
    await offer(new TextDocument('file:///a.py', 'x = '), ['2']);
    expect(latest().statsAsked).toBe(asked + 1); // not again within TIMINGS_EVERY_MS
  });

  it('sends the request at the cursor a Tab accept left at once, while a typed request waits the debounce', async () => {
    const document = new TextDocument('file:///a.py', 'x = ');
    fake.activeDocument = document;
    const [item] = await offer(document, ['compute(a, b)']);
    fake.settings.set('debounceMs', { min: 60_000, max: 60_000 });
    // VS Code inserts the item, puts the cursor after it, then runs its command; then it asks again, automatically.
    document.insert(4, 'compute(a, b)');
    const end = new Position(0, 17);
    fake.selections = [new Selection(end, end)];
    await commands.executeCommand(ACCEPTED_COMMAND, item.command?.arguments?.[0]);
    expect(await settlesNow(provide(document, end, ['  # sum']).answered)).toBe(true);
    document.insert(17, '\n'); // a key typed: the next request waits
    const next = new Position(1, 0);
    fake.selections = [new Selection(next, next)];
    const source = new CancellationTokenSource();
    const waiting = provide(document, next, ['y'], TYPED, source.token).answered;
    expect(await settlesNow(waiting)).toBe(false);
    source.cancel(); // the next key
    expect(await waiting).toBeNull();
  });

  it('sends the request at the cursor a partial accept left at once', async () => {
    const document = new TextDocument('file:///a.py', 'x = ');
    fake.activeDocument = document;
    await offer(document, ['compute(a, b)']);
    fake.settings.set('debounceMs', { min: 60_000, max: 60_000 });
    const after = new Position(0, 12);
    fake.builtins.set('editor.action.inlineSuggest.acceptNextWord', () => {
      document.insert(4, 'compute(');
      fake.selections = [new Selection(after, after)];
    });
    await commands.executeCommand('kvcomplete.acceptNextWord');
    expect(await settlesNow(provide(document, after, ['a, b)']).answered)).toBe(true);
  });

  it('keeps a debounce change to itself: the server is not told', async () => {
    fake.changeSettings({ debounceMs: { min: 10, max: 100 } });
    await new Promise((resolve) => setImmediate(resolve));
    expect(latest().notifications).toEqual([]);
  });

  it('shows the next edits the server sends, applies one on the next-edit command and reports it', async () => {
    const document = new TextDocument('file:///a.py', 'amount = 1\ny = total');
    fake.activeDocument = document;
    fake.selections = [new Selection(new Position(0, 0), new Position(0, 0))];
    const edit = { range: { start: { line: 1, character: 4 }, end: { line: 1, character: 9 } }, oldText: 'total', newText: 'amount', score: 1 };
    latest().handlers.get('kvcomplete/nextEditsReady')?.({ uri: 'file:///a.py', version: 1, edits: [edit] });
    expect(fake.contexts.get('kvcomplete.nextEditVisible')).toBe(true);
    await commands.executeCommand('kvcomplete.nextEdit'); // to it
    await commands.executeCommand('kvcomplete.nextEdit'); // apply
    expect(document.text).toBe('amount = 1\ny = amount');
    expect(latest().notifications).toEqual([['kvcomplete/nextEditFeedback',
      { uri: 'file:///a.py', range: edit.range, newText: 'amount', action: 'accepted' }]]);
    await commands.executeCommand('kvcomplete.nextEdit'); // nothing shown: asks at the cursor
    expect(latest().nextEditRequests).toEqual([{ textDocument: { uri: 'file:///a.py' }, position: { line: 1, character: 10 } }]);
  });

  it('forgets the offers of a closed document', async () => {
    const document = new TextDocument('file:///a.py', 'x = ');
    fake.activeDocument = document;
    await offer(document, ['compute(a, b)']);
    fake.closes.fire(document);
    fake.builtins.set('editor.action.inlineSuggest.acceptNextWord', () => document.insert(4, 'compute('));
    await commands.executeCommand('kvcomplete.acceptNextWord');
    expect(latest().notifications).toEqual([]);
  });
});
