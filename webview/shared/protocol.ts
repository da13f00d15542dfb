// Messages between the results panel (extension host) and its webview. Both sides validate what they receive
// against one schema, schemas/webview-messages.schema.json (compiled at build time): a webview is untrusted input
// for the extension, and the extension's data is checked before it is drawn.
import * as validators from 'hypershield:message-validators';
import type { HotLineRef } from '../../extension/core/results/hot-source';
import type { ReportData } from '../../extension/core/results/report-data';

export type { ReportData };

/** What a panel keeps with vscode.setState, and what VS Code hands back to restore it after a reload. */
export interface PersistedState {
  runId: string;
  compareId?: string;
  view?: ViewState;
}

/** What the person picked in a panel; restored when the panel is shown again. */
export interface ViewState {
  benchmark?: string;
  metric?: string;
}

/**
 * When each phase of a drawing ended in the webview, in ms since the Unix epoch: the page started loading, its script
 * arrived (first drawing only), the script started, the data was in hand, every chart not deferred was drawn.
 */
export interface WebviewMarks {
  page: number;
  scriptFetched?: number;
  started: number;
  dataIn: number;
  drawn: number;
}

export type HostMessage = { type: 'show'; data: ReportData; view: ViewState };

/** Commands a webview may run (the schema lists them); the command registry checks each one's arguments. */
export type WebviewCommand = 'hypershield.results.export' | 'hypershield.results.exportImage' | 'hypershield.results.compare';

export type WebviewMessage =
  | { type: 'ready' }
  /** ms: drawing time; pageMs: time since the page started loading (script load and waiting included). */
  /** charts: drawn now; deferred: drawn when they scroll near. */
  | { type: 'rendered'; ms: number; pageMs: number; charts: number; deferred: number; marks: WebviewMarks }
  | { type: 'view'; view: ViewState }
  | { type: 'command'; command: WebviewCommand; args: unknown[] }
  /** Open a hot line of the run's model source beside the panel (the extension checks it belongs to the run). */
  | ({ type: 'openHotLine' } & HotLineRef)
  | { type: 'error'; message: string };

type Validate = typeof validators.webviewMessage;

/** The first schema error of the last check, for the log: "/data/run/results/3: must have required property 'mode'". */
function firstError(v: Validate): string {
  const e = v.errors?.[0];
  return e ? `${e.instancePath || '(message)'}: ${e.message ?? 'invalid'}` : 'valid';
}

export function isHostMessage(x: unknown): x is HostMessage {
  return validators.hostMessage(x);
}

export function isWebviewMessage(x: unknown): x is WebviewMessage {
  return validators.webviewMessage(x);
}

/** The panel state VS Code hands back after a reload (written by an earlier version of the webview, perhaps). */
export function isPersistedState(x: unknown): x is PersistedState {
  return validators.persistedState(x);
}

/** Why the last isHostMessage / isWebviewMessage check failed. */
export const whyInvalid = {
  hostMessage: () => firstError(validators.hostMessage),
  webviewMessage: () => firstError(validators.webviewMessage),
};

/** The embedded data of an HTML report: the "data" of a show message. */
export function isReportData(x: unknown): x is ReportData {
  return validators.hostMessage({ type: 'show', data: x, view: {} });
}
