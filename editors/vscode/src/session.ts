/**
 * One running server at a time: start, restart, stop; settings changes; accepts and stats sent to it; the
 * status bar kept in step with the client's state, the server's model events and its timings (asked again
 * after an answer, at most every TIMINGS_EVERY_MS: the server computes them, the answer does not carry them).
 */
import * as vscode from 'vscode';
import { DidChangeConfigurationNotification, State, type LanguageClient, type LogMessageParams } from 'vscode-languageclient/node';
import { DID_ACCEPT, type AcceptTracker, type DidAcceptParams } from './accepts';
import { createClient } from './client';
import type { RequestPacer } from './pacing';
import { retriggerWhenCurrent } from './refresh';
import { modelEvent } from './serverLog';
import { affectsServer, needsRestart, readSettings, SECTION, serverOptions } from './settings';
import { modelInUse, STATS_METHOD, timings } from './stats';
import type { StatusBar } from './status';

export const TIMINGS_EVERY_MS = 5_000;

export class ServerSession {
  private client: LanguageClient | undefined;
  private timingsAskedAt = -Infinity;

  constructor(
    private readonly output: vscode.OutputChannel,
    private readonly status: StatusBar,
    private readonly tracker: AcceptTracker,
    private readonly pacer: RequestPacer,
    /** The handlers of the server's notifications that the session does not handle itself, by method. */
    private readonly notifications: Record<string, (params: unknown) => void> = {},
  ) {}

  /** Start a server with the current settings; a failure is shown in the status bar and the output. */
  async start(): Promise<void> {
    this.status.update({ phase: 'starting', error: undefined });
    let client: LanguageClient;
    try {
      client = createClient(readSettings(vscode.workspace.getConfiguration(SECTION)), this.output, {
        tracker: this.tracker,
        pacer: this.pacer,
        onAnswer: (latencyMs) => {
          this.status.update({ latencyMs, ...this.tracker.counts });
          void this.showTimings();
        },
        onLog: (params) => this.onLog(params),
        onSuggestionsChanged: retriggerWhenCurrent(() => vscode.window.activeTextEditor,
          (command) => vscode.commands.executeCommand(command)),
        notifications: this.notifications,
      });
    } catch (error) {
      this.fail(String(error instanceof Error ? error.message : error));
      return;
    }
    this.client = client;
    // Running says nothing of the model (its log does); a stop after a failure keeps the failure's reason.
    client.onDidChangeState(({ newState }) => {
      if (client !== this.client) {
        return;
      }
      if (newState === State.Starting) {
        this.status.update({ phase: 'starting' });
      } else if (newState === State.Stopped && this.status.current.phase !== 'failed') {
        this.status.update({ phase: 'stopped' });
      }
    });
    try {
      await client.start();
    } catch (error) {
      this.fail(`cannot start the server (${String(error)}): check kvcomplete.serverPath`);
    }
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client?.isRunning()) {
      await client.stop();
    }
    this.status.update({ phase: 'stopped' });
  }

  /** A new server path restarts the server; a changed server option is sent as the new configuration. */
  async configurationChanged(event: vscode.ConfigurationChangeEvent): Promise<void> {
    const affects = (section: string) => event.affectsConfiguration(section);
    if (needsRestart(affects)) {
      await this.restart();
    } else if (affectsServer(affects) && this.client?.isRunning()) {
      await this.client.sendNotification(DidChangeConfigurationNotification.type,
        { settings: serverOptions(vscode.workspace.getConfiguration(SECTION)) });
    }
  }

  async accepted(params: DidAcceptParams): Promise<void> {
    this.status.update(this.tracker.counts);
    await this.notify(DID_ACCEPT, params);
  }

  /** Send the notification `method` to the server, if one is running. */
  async notify(method: string, params: unknown): Promise<void> {
    if (this.client?.isRunning()) {
      await this.client.sendNotification(method, params);
    }
  }

  /** The server's answer to the request `method`; undefined when no server is running. */
  async request<T>(method: string, params: unknown): Promise<T | undefined> {
    return this.client?.isRunning() ? this.client.sendRequest<T>(method, params) : undefined;
  }

  /** The server's `kvcomplete/stats`; throws when no server is running. */
  async stats(): Promise<Record<string, unknown>> {
    if (!this.client?.isRunning()) {
      throw new Error('the server is not running (kvcomplete: Restart Server starts it)');
    }
    return this.client.sendRequest<Record<string, unknown>>(STATS_METHOD);
  }

  private onLog({ message }: LogMessageParams): void {
    const event = modelEvent(message);
    if (event?.kind === 'ready') {
      void this.showModel();
    } else if (event?.kind === 'loading') {
      this.status.update({ phase: 'starting' });
    } else if (event?.kind === 'failed') {
      this.status.update({ phase: 'failed', error: event.error });
    }
  }

  /** The model that just loaded, as `kvcomplete/stats` names it. */
  private async showModel(): Promise<void> {
    try {
      const stats = await this.stats();
      const loaded = modelInUse(stats);
      if (loaded !== undefined) {
        this.status.update({ phase: 'ready', ...loaded, ...timings(stats), error: undefined });
      }
    } catch (error) {
      this.logError(`no stats: ${String(error)}`);
    }
  }

  /** The server's timings, unless they were asked for less than TIMINGS_EVERY_MS ago. */
  private async showTimings(): Promise<void> {
    const now = Date.now();
    if (now - this.timingsAskedAt < TIMINGS_EVERY_MS) {
      return;
    }
    this.timingsAskedAt = now;
    try {
      this.status.update(timings(await this.stats()));
    } catch (error) {
      this.logError(`no stats: ${String(error)}`);
    }
  }

  private fail(error: string): void {
    this.logError(error);
    this.status.update({ phase: 'failed', error });
  }

  private logError(message: string): void {
    this.output.appendLine(`[Error - ${new Date().toLocaleTimeString()}] ${message}`);
  }
}
