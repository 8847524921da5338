/**
 * The extension's modules against the real Python server: its settings as the server's options, the
 * inline middleware over real `textDocument/inlineCompletion` answers (k items, cancellation), full and
 * partial accepts as `kvcomplete/didAccept`, the request after an accept sent without the debounce and answered
 * from the server's prefetch, the status bar's model line and the stats, and the server's
 * `kvcomplete/suggestionsChanged` as the extension judges it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as vscode from 'vscode';
import {
  CancellationTokenSource,
  DidChangeConfigurationNotification,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  InlineCompletionRequest,
  InlineCompletionTriggerKind,
  type InlineCompletionItem as ProtocolItem,
  type InlineCompletionParams,
} from 'vscode-languageserver-protocol/node';
import { AcceptTracker, DID_ACCEPT, type DidAcceptParams, type Offer } from '../../src/accepts';
import type { DebounceBounds } from '../../src/debounce';
import { inlineCompletionMiddleware } from '../../src/inline';
import { RequestPacer } from '../../src/pacing';
import { shouldRetrigger, SUGGESTIONS_CHANGED, type SuggestionsChangedParams } from '../../src/refresh';
import { modelEvent } from '../../src/serverLog';
import { readSettings, SERVER_KEYS } from '../../src/settings';
import { formatStats, modelInUse, STATS_METHOD, timings } from '../../src/stats';
import { statusText } from '../../src/status';
import { InlineCompletionItem, Position, Range, Selection, TextDocument } from '../vscode';
import { LspServer, PYTHON } from './lspServer';

type Property = { default: unknown; enum?: string[] };
const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, Property> } };
};
const properties = new Map(Object.entries(manifest.contributes.configuration.properties)
  .map(([key, property]) => [key.replace(/^kvcomplete\./, ''), property]));
// The settings a fresh VS Code has, but short suggestions: the test checks the protocol, not the text.
const defaults = new Map([...properties].map(([key, property]) => [key, property.default]));
const settings = readSettings({ get: (key) => (key === 'maxTokens' ? 12 : defaults.get(key)) });

const URI = 'file:///work/example.py';
const SOURCE = 'def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    ';

function asVsCodeItem(item: ProtocolItem): InlineCompletionItem {
  const position = ({ line, character }: { line: number; character: number }) => new Position(line, character);
  const range = item.range && new Range(position(item.range.start), position(item.range.end));
  return new InlineCompletionItem(item.insertText as string, range);
}

/** The server's own settings: every option, its default and its allowed values (completion/config.py). */
function pythonSettings(): { defaults: Record<string, unknown>; choices: Record<string, string[]> } {
  const script = [
    'import json',
    'from kvcomplete.completion import config',
    'defaults = {key: getattr(config.Settings(), field) for key, field in config.LSP_KEYS.items()}',
    "choices = {'device': config.DEVICES, 'dtype': config.DTYPES, 'logLevel': config.LOG_LEVELS,",
    "           'fimLayout': config.FIM_LAYOUTS, 'kernels': config.KERNELS}",
    'print(json.dumps({"defaults": defaults, "choices": choices}))',
  ].join('\n');
  return JSON.parse(execFileSync(PYTHON, ['-c', script], { encoding: 'utf8' })) as ReturnType<typeof pythonSettings>;
}

describe('the extension against kvcomplete serve', () => {
  let server: LspServer;
  const tracker = new AcceptTracker();
  const latencies: number[] = [];
  // No debounce, except in the test of the request after an accept.
  let debounce: DebounceBounds = { minMs: 0, maxMs: 0 };
  const pacer = new RequestPacer(() => debounce);
  const middleware = inlineCompletionMiddleware(tracker, pacer, (latencyMs) => latencies.push(latencyMs));
  const document = new TextDocument(URI, SOURCE);
  let version = 1;
  const cursorAtEnd = () => {
    const cursor = document.positionAt(document.text.length);
    return { document, selections: [new Selection(cursor, cursor)] };
  };

  /** What the language client does for a typed request: the request, then protocol items as VS Code items. */
  async function provide(token = new CancellationTokenSource().token): Promise<InlineCompletionItem[] | null> {
    const cursor = document.positionAt(document.text.length);
    const params: InlineCompletionParams = {
      textDocument: { uri: URI }, position: cursor, context: { triggerKind: InlineCompletionTriggerKind.Automatic },
    };
    const next = async () => {
      const answer = await server.connection.sendRequest(InlineCompletionRequest.type, params, token).catch((error: unknown) => {
        if (token.isCancellationRequested) {
          return null;
        }
        throw error;
      });
      const items = Array.isArray(answer) ? answer : answer?.items ?? [];
      return items.map(asVsCodeItem) as unknown as vscode.InlineCompletionItem[];
    };
    const result = await middleware(document as unknown as vscode.TextDocument, cursor as unknown as vscode.Position,
      { triggerKind: 1 } as vscode.InlineCompletionContext, token, next); // VS Code's Automatic
    return result as unknown as InlineCompletionItem[] | null;
  }

  /** Insert `text` at the end of the document, as an editor would tell the server. */
  async function type(text: string): Promise<void> {
    const end = document.positionAt(document.text.length);
    document.text += text;
    version += 1;
    document.version = version;
    await server.connection.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri: URI, version }, contentChanges: [{ range: { start: end, end }, text }],
    });
  }

  const accept = (params: DidAcceptParams) => server.connection.sendNotification(DID_ACCEPT, params);
  const stats = () => server.connection.sendRequest<Record<string, unknown>>(STATS_METHOD);

  beforeAll(async () => {
    // Finished suggestions only, so that answers hold all k of them; one test sets a budget and restores this.
    server = await LspServer.start({ ...settings.options, latencyBudgetMs: 0 });
    await server.connection.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri: URI, languageId: 'python', version, text: SOURCE },
    });
  });
  afterAll(() => server?.stop());

  it("mirrors the server's settings: the same keys, defaults and choices", () => {
    const python = pythonSettings();
    const editorKeys = Object.keys(python.defaults).filter((key) => key !== 'allowPickle'); // command line only
    expect([...SERVER_KEYS].sort()).toEqual(editorKeys.sort());
    for (const key of editorKeys) {
      // the settings UI cannot hold null: a null default is '' (model, backendModel), sent as null
      const expected = python.defaults[key] === null ? '' : python.defaults[key];
      expect(defaults.get(key), key).toEqual(expected);
    }
    expect(defaults.get('model')).toBe('');
    for (const [key, choices] of Object.entries(python.choices)) {
      expect(properties.get(key)?.enum, key).toEqual(choices);
    }
  });

  it('shows the loaded model in the status bar, and the server took every setting', async () => {
    await server.until(() => server.logs.map(modelEvent).find((event) => event?.kind === 'ready'), 'the model');
    expect(server.logs.map(modelEvent)).toContainEqual({ kind: 'loading' });
    const loaded = modelInUse(await stats());
    expect(loaded).toEqual({ model: 'SmolLM2-135M-Instruct', device: 'cpu' });
    expect(statusText({ phase: 'ready', ...loaded, answers: 0, accepted: 0 }))
      .toBe('$(sparkle) SmolLM2-135M-Instruct · cpu · – ms · –');
    expect(server.logs.filter((message) => /setting/.test(message))).toEqual([]);
  });

  it('returns the k distinct suggestions, each accepting through the extension', async () => {
    const items = await server.until(async () => {
      const answer = await provide();
      return answer && answer.length > 0 ? answer : undefined;
    }, 'suggestions');
    const texts = items.map((item) => item.insertText);
    expect(texts.length).toBeGreaterThanOrEqual(2);
    expect(texts.length).toBeLessThanOrEqual(settings.options.suggestions as number);
    expect(new Set(texts).size).toBe(texts.length);
    expect(items.every((item) => item.command?.command === 'kvcomplete.accepted')).toBe(true);
    expect(latencies.length).toBeGreaterThan(0);

    // A full accept: VS Code inserts the text, then runs the item's command.
    const offer = items[0].command?.arguments?.[0] as Offer;
    const before = ((await stats()).accepts as number);
    await type(offer.item.insertText);
    await accept(tracker.full(offer) as DidAcceptParams);
    await server.until(async () => ((await stats()).accepts === before + 1 ? true : undefined), 'the accept');
    const mirror = await server.connection.sendRequest<{ text: string; engineInSync: boolean }>('kvcomplete/document', { uri: URI });
    expect(mirror).toMatchObject({ text: document.text, engineInSync: true });
  });

  it('reports a partial accept of the next word', async () => {
    await type('\n\ndef div(a, b):\n    ');
    const items = await server.until(async () => {
      const answer = await provide();
      return answer && answer.length > 0 ? answer : undefined;
    }, 'suggestions');
    const word = /^\s*\S+/.exec(items[0].insertText)?.[0] ?? items[0].insertText;
    const offset = document.text.length;
    await type(word);
    const params = tracker.partial(URI, offset, word, (start, end) => document.text.slice(start, end));
    expect(params).toEqual({ uri: URI, item: { insertText: items[0].insertText, range: expect.anything() as unknown }, acceptedText: word });
    const before = ((await stats()).accepts as number);
    await accept(params as DidAcceptParams);
    await server.until(async () => ((await stats()).accepts === before + 1 ? true : undefined), 'the partial accept');
  });

  it('sends the request after an accept without the debounce, and the server answers it from its prefetch', async () => {
    await type('\n\ndef neg(a):\n    ');
    const items = await server.until(async () => {
      const answer = await provide();
      return answer && answer.length > 0 ? answer : undefined;
    }, 'suggestions');
    debounce = { minMs: 1_500, maxMs: 1_500 };
    try {
      // A full accept as VS Code makes it: the edit, then the item's command; then VS Code asks at the new cursor.
      const offer = items[0].command?.arguments?.[0] as Offer;
      await type(offer.item.insertText);
      const accepted = performance.now();
      pacer.acceptedAtCursor(cursorAtEnd());
      await accept(tracker.full(offer) as DidAcceptParams);
      const next = await provide();
      const afterAcceptMs = performance.now() - accepted;
      console.log(`accept -> next answer: ${afterAcceptMs.toFixed(0)} ms (${next?.length ?? 0} items)`);
      expect(next).not.toBeNull();
      expect(afterAcceptMs).toBeLessThan(debounce.minMs);
      // A key typed after it: that request waits the debounce.
      await type('\n');
      const typed = performance.now();
      await provide();
      expect(performance.now() - typed).toBeGreaterThanOrEqual(debounce.minMs);
    } finally {
      debounce = { minMs: 0, maxMs: 0 };
    }
  });

  it('drops a cancelled request, which the server counts as cancelled', async () => {
    await type('\n\nclass Point:\n    '); // new text: no type-along answer, the engine has to run
    const { cancelled } = await stats();
    const answers = tracker.counts.answers;
    const source = new CancellationTokenSource();
    const pending = provide(source.token);
    source.cancel();
    expect(await pending).toBeNull();
    expect(tracker.counts.answers).toBe(answers);
    await server.until(async () => ((await stats()).cancelled as number) > (cancelled as number) ? true : undefined, 'the cancel');
  });

  it("notifies grown suggestions for the request's version and cursor, current until the user types on", async () => {
    const changes: SuggestionsChangedParams[] = [];
    server.connection.onNotification(SUGGESTIONS_CHANGED, (params: SuggestionsChangedParams) => changes.push(params));
    const budget = (latencyBudgetMs: unknown) => server.connection.sendNotification(DidChangeConfigurationNotification.type,
      { settings: { ...settings.options, latencyBudgetMs } });
    await budget(1); // the answer is cut at once, and decoding goes on in the background
    try {
      await type('\n\ndef power(a, b):\n    ');
      const cursor = document.positionAt(document.text.length);
      const asked = version;
      await provide();
      // The server may also notify other spots it decodes at (a prefetch after the accepts above): not these.
      const here = (params: SuggestionsChangedParams) => params.version === asked
        && params.position.line === cursor.line && params.position.character === cursor.character;
      const changed = await server.until(() => changes.find(here), 'a suggestionsChanged at the cursor');
      expect(changed.uri).toBe(URI);
      const editor = () => ({ document: { uri: document.uri, version }, selections: [new Selection(cursor, cursor)] });
      expect(shouldRetrigger(changed, editor())).toBe(true);
      expect(changes.filter((params) => !here(params)).some((params) => shouldRetrigger(params, editor()))).toBe(false);
      await type('r');
      expect(shouldRetrigger(changed, editor())).toBe(false);
    } finally {
      await budget(0);
    }
    expect(timings(await stats()).firstAnswerMs).toBeGreaterThan(0);
  });

  it('formats the real stats', async () => {
    const lines = formatStats(await stats(), tracker.counts.answers, tracker.counts.accepted);
    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^requests: \d+$/), expect.stringMatching(/^latencyMs: p50 [\d.]+, p95 [\d.]+$/)]));
    // Accepted from: the full accept, the partial one, the accept before the request without the debounce.
    expect(lines.at(-1)).toBe(`accepted here: 3 of ${tracker.counts.answers} answers (${Math.round(300 / tracker.counts.answers)}%)`);
  });
});
