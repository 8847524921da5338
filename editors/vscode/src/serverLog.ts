/**
 * When the server loads a model, from its `window/logMessage`s: the protocol has no notification for it
 * (only `$/progress`, which the language client shows itself). The server logs `loading <model>`, then
 * `model ready: {...}` or `no model: <why>`, each after its logger's name (kvcomplete.lsp_server.server, logs.py).
 * Which model and device come from `kvcomplete/stats`, not from these lines. The integration test runs the
 * real server, so a change of these lines fails there, not silently here.
 */

export type ModelEvent = { kind: 'loading' } | { kind: 'ready' } | { kind: 'failed'; error: string };

const LOGGER = String.raw`^[\w.]+: `;
const LOADING = new RegExp(`${LOGGER}loading `);
const READY = new RegExp(`${LOGGER}model ready: `);
const FAILED = new RegExp(`${LOGGER}(no model: .*)$`, 's');

/** The model event a log message announces, if any. */
export function modelEvent(message: string): ModelEvent | undefined {
  const failed = FAILED.exec(message);
  if (failed) {
    return { kind: 'failed', error: failed[1].trim() };
  }
  if (READY.test(message)) {
    return { kind: 'ready' };
  }
  return LOADING.test(message) ? { kind: 'loading' } : undefined;
}
