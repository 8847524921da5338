/**
 * Entry point: wires the output channel, the status bar, the server session and the commands. The logic
 * lives in the modules it wires (client, inline, pacing, accepts, partialAccept, status, stats, settings,
 * nextEdits).
 */
import * as vscode from 'vscode';
import { AcceptTracker, type Offer } from './accepts';
import { debounceBounds } from './debounce';
import { ACCEPTED_COMMAND } from './inline';
import { NextEditsController } from './nextEdits';
import { NEXT_EDIT_FEEDBACK, NEXT_EDITS, NEXT_EDITS_READY, type NextEditSet } from './nextEditsSet';
import { nextEditsSubscriptions, NextEditsView } from './nextEditsView';
import { RequestPacer } from './pacing';
import { acceptPartially, PARTIAL_ACCEPTS, type EditorEnvironment } from './partialAccept';
import { ServerSession } from './session';
import { DEBOUNCE_MS, SECTION } from './settings';
import { formatStats } from './stats';
import { SHOW_STATS_COMMAND, StatusBar } from './status';

export const RESTART_COMMAND = 'kvcomplete.restartServer';

let session: ServerSession | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('kvcomplete');
  const statusItem = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100);
  const tracker = new AcceptTracker();
  const status = new StatusBar(statusItem);
  const pacer = new RequestPacer(() => debounceBounds(vscode.workspace.getConfiguration(SECTION).get(DEBOUNCE_MS)));
  const nextEditsView = new NextEditsView({
    request: (uri, position) => current.request<NextEditSet>(NEXT_EDITS, { textDocument: { uri }, position })
      .catch((error) => {
        output.appendLine(`[Error - ${new Date().toLocaleTimeString()}] no next edits: ${String(error)}`);
        return undefined;
      }),
    feedback: (params) => current.notify(NEXT_EDIT_FEEDBACK, params),
  });
  const nextEdits = new NextEditsController(nextEditsView);
  const current = new ServerSession(output, status, tracker, pacer,
    { [NEXT_EDITS_READY]: (params) => nextEdits.ready(params as NextEditSet) });
  session = current;
  // Run at once after an accept's edit, before anything is awaited: VS Code asks again at the new cursor.
  const acceptedHere = () => pacer.acceptedAtCursor(vscode.window.activeTextEditor);
  const editors: EditorEnvironment = {
    activeDocument: () => vscode.window.activeTextEditor?.document,
    executeCommand: (command) => vscode.commands.executeCommand(command),
    onDidChangeTextDocument: vscode.workspace.onDidChangeTextDocument,
  };

  context.subscriptions.push(
    output,
    statusItem,
    vscode.commands.registerCommand(RESTART_COMMAND, () => current.restart()),
    vscode.commands.registerCommand(SHOW_STATS_COMMAND, () => showStats(current, tracker, output)),
    vscode.commands.registerCommand(ACCEPTED_COMMAND, async (offer: Offer) => {
      acceptedHere();
      const params = tracker.full(offer);
      if (params !== undefined) {
        await current.accepted(params);
      }
    }),
    ...Object.entries(PARTIAL_ACCEPTS).map(([command, builtin]) => vscode.commands.registerCommand(command, async () => {
      const accepted = await acceptPartially(builtin, editors, tracker);
      if (accepted.length > 0) {
        acceptedHere();
      }
      for (const params of accepted) {
        await current.accepted(params);
      }
    })),
    vscode.workspace.onDidChangeConfiguration((event) => current.configurationChanged(event)),
    vscode.workspace.onDidCloseTextDocument((document) => tracker.forget(document.uri.toString())),
    ...nextEditsSubscriptions(nextEdits, nextEditsView),
  );
  await current.start();
}

export async function deactivate(): Promise<void> {
  await session?.stop();
  session = undefined;
}

async function showStats(current: ServerSession, tracker: AcceptTracker, output: vscode.OutputChannel): Promise<void> {
  let stats: Record<string, unknown>;
  try {
    stats = await current.stats();
  } catch (error) {
    void vscode.window.showWarningMessage(`kvcomplete: no stats: ${error instanceof Error ? error.message : String(error)}`);
    return;
  }
  const { answers, accepted } = tracker.counts;
  const lines = formatStats(stats, answers, accepted);
  output.appendLine(`[Stats - ${new Date().toLocaleTimeString()}] ${lines.join('; ')}`);
  await vscode.window.showInformationMessage('kvcomplete stats', { modal: true, detail: lines.join('\n') });
}
