/**
 * The real `kvcomplete serve` over stdio, driven through vscode-languageserver-protocol's connection: the
 * process the extension starts, with nothing mocked on its side.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  createMessageConnection,
  InitializeRequest,
  InitializedNotification,
  LogMessageNotification,
  type MessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
} from 'vscode-languageserver-protocol/node';

/** `KVCOMPLETE_SERVER`, else the repository's `.venv/bin/kvcomplete` (what `make setup` builds). */
export const SERVER = process.env.KVCOMPLETE_SERVER ?? resolve(__dirname, '..', '..', '..', '..', '.venv', 'bin', 'kvcomplete');
/** The Python of the server's virtual environment. */
export const PYTHON = join(dirname(SERVER), 'python');

export class LspServer {
  readonly logs: string[] = [];
  private constructor(readonly connection: MessageConnection, private readonly process: ChildProcessWithoutNullStreams,
    readonly stderr: string[]) {}

  /** Start the server and initialize it with `initializationOptions`. */
  static async start(initializationOptions: object): Promise<LspServer> {
    if (!existsSync(SERVER)) {
      throw new Error(`no kvcomplete server at ${SERVER}: run \`make setup\` at the repository root, or set KVCOMPLETE_SERVER`);
    }
    const child = spawn(SERVER, ['serve'], { env: { ...process.env, HF_HUB_OFFLINE: '1' } });
    const stderr: string[] = [];
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
    const server = new LspServer(connection, child, stderr);
    connection.onNotification(LogMessageNotification.type, ({ message }) => server.logs.push(message));
    connection.listen();
    await connection.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      rootUri: null,
      capabilities: { general: { positionEncodings: ['utf-16'] }, textDocument: { inlineCompletion: {} } },
      initializationOptions,
    });
    await connection.sendNotification(InitializedNotification.type, {});
    return server;
  }

  /** Poll `check` until it returns a value (not undefined), or fail after `timeoutMs`. */
  async until<T>(check: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 90_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value !== undefined) {
        return value;
      }
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what}; server stderr:\n${this.stderr.join('').slice(-4000)}`);
      }
      await new Promise((resolveLater) => setTimeout(resolveLater, 50));
    }
  }

  async stop(): Promise<void> {
    const exited = this.process.exitCode !== null ? Promise.resolve()
      : new Promise((resolveExit) => this.process.once('exit', resolveExit));
    try {
      await this.connection.sendRequest('shutdown');
      await this.connection.sendNotification('exit');
    } finally {
      const killer = setTimeout(() => this.process.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
      this.connection.dispose();
    }
  }
}
