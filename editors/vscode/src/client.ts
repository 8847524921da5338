/**
 * The language client for one `kvcomplete serve` process: how it is started, which documents it sees, and
 * the middleware that makes its inline completions trackable.
 */
import type * as vscode from 'vscode';
import {
  LanguageClient,
  LogMessageNotification,
  type LanguageClientOptions,
  type LogMessageParams,
  type ServerOptions,
} from 'vscode-languageclient/node';
import type { AcceptTracker } from './accepts';
import { inlineCompletionMiddleware, noCompletionItems, type AnswerListener } from './inline';
import type { RequestPacer } from './pacing';
import { SUGGESTIONS_CHANGED, type SuggestionsChangedParams } from './refresh';
import type { ClientSettings } from './settings';

export interface ClientHooks {
  tracker: AcceptTracker;
  /** When each inline completion request goes (the debounce). */
  pacer: RequestPacer;
  onAnswer: AnswerListener;
  /** Every `window/logMessage`. The server writes the same records to stderr, which the client already
   * copies to the output channel, so they are not written a second time. */
  onLog: (params: LogMessageParams) => void;
  /** Every `kvcomplete/suggestionsChanged`: background decoding extended the suggestions at a cursor. */
  onSuggestionsChanged: (params: SuggestionsChangedParams) => Promise<void>;
  /** The handlers of the server's other notifications, by method (`kvcomplete/nextEditsReady`). */
  notifications: Record<string, (params: unknown) => void>;
}

export function createClient(settings: ClientSettings, output: vscode.OutputChannel, hooks: ClientHooks): LanguageClient {
  // No `transport`: stdio is the default, and naming it would append `--stdio`, which `serve` refuses.
  const server: ServerOptions = { command: settings.serverPath, args: ['serve'] };
  const options: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
    outputChannel: output,
    initializationOptions: settings.options,
    middleware: {
      provideInlineCompletionItems: inlineCompletionMiddleware(hooks.tracker, hooks.pacer, hooks.onAnswer),
      provideCompletionItem: noCompletionItems,
    },
  };
  const client = new LanguageClient('kvcomplete', 'kvcomplete', server, options);
  // vscode-languageclient 9 counts inline completion (LSP 3.18) among its proposed features, off unless asked.
  client.registerProposedFeatures();
  client.onNotification(LogMessageNotification.type, hooks.onLog);
  client.onNotification(SUGGESTIONS_CHANGED, (params: SuggestionsChangedParams) => void hooks.onSuggestionsChanged(params));
  for (const [method, handler] of Object.entries(hooks.notifications)) {
    client.onNotification(method, handler);
  }
  return client;
}
