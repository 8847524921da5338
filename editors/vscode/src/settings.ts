/**
 * The extension's settings: where the server is, and the options it gets as `initializationOptions` and
 * `workspace/didChangeConfiguration`. The option keys are the server's own (lsp_server/settings.py), so a
 * VS Code setting `kvcomplete.maxTokens` is the server's `maxTokens`, unchanged.
 */

export const SECTION = 'kvcomplete';
export const SERVER_PATH = 'serverPath';
/** The debounce's bounds (debounce.ts): the extension's own setting, like the server path; not sent. */
export const DEBOUNCE_MS = 'debounceMs';

/** Every server option an editor may set; `allowPickle` is missing on purpose: only the command line may. */
export const SERVER_KEYS = [
  'model',
  'device',
  'dtype',
  'weights',
  'compile',
  'suggestions',
  'maxTokens',
  'speculation',
  'pie',
  'kvBudgetMB',
  'staleBudget',
  'fimLayout',
  'maxFileBytes',
  'logLevel',
  'kernels',
  'indexMaxFiles',
  'indexMaxBytes',
  'contextTokens',
  'latencyBudgetMs',
  'prefetch',
  'nextEdits', // the extension reads it too: off, it shows no proposal unless asked (nextEditsView.ts)
  'maxNextEdits',
  'nextEditsThreshold',
  'backend',
  'backendUrl',
  'backendModel',
  'backendTimeoutMs',
  'backendFallback',
] as const;

export type ServerOptions = Partial<Record<(typeof SERVER_KEYS)[number], unknown>>;

/** The part of `vscode.WorkspaceConfiguration` this module reads (the `kvcomplete` section). */
export interface Configuration {
  get(key: string): unknown;
}

export interface ClientSettings {
  serverPath: string;
  options: ServerOptions;
}

/** The settings in the `kvcomplete` section; throws, naming the setting, when the server cannot be started. */
export function readSettings(config: Configuration): ClientSettings {
  const serverPath = config.get(SERVER_PATH);
  if (typeof serverPath !== 'string' || serverPath.trim() === '') {
    throw new Error(`${SECTION}.${SERVER_PATH} is empty: set it to the kvcomplete executable `
      + '(for example /path/to/kvcomplete/.venv/bin/kvcomplete)');
  }
  return { serverPath: serverPath.trim(), options: serverOptions(config) };
}

/** The settings whose server default is `null`, which the settings UI cannot hold: empty means null. */
const NULL_WHEN_EMPTY: ReadonlySet<string> = new Set(['model', 'backendModel']);

/**
 * The server's options. An empty `model` or `backendModel` is the server's `null` (the embedded default
 * model; the backend's first model). Values are passed as they are: the server checks types and ranges and
 * logs what it skips, so the rules live in one place.
 */
export function serverOptions(config: Configuration): ServerOptions {
  const options: ServerOptions = {};
  for (const key of SERVER_KEYS) {
    const value = config.get(key);
    if (value !== undefined) {
      options[key] = NULL_WHEN_EMPTY.has(key) && value === '' ? null : value;
    }
  }
  return options;
}

/** Whether a configuration change is one of the server's options (else the server is not told). */
export function affectsServer(affects: (section: string) => boolean): boolean {
  return SERVER_KEYS.some((key) => affects(`${SECTION}.${key}`));
}

/** Whether a configuration change needs a new server process rather than a `didChangeConfiguration`. */
export function needsRestart(affects: (section: string) => boolean): boolean {
  return affects(`${SECTION}.${SERVER_PATH}`);
}
