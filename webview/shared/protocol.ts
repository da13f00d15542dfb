// Messages between the results panel (extension host) and its webview. Both sides validate what they receive:
// a webview is untrusted input for the extension, and the extension's data is checked before it is drawn.
import type { ReportData } from '../../extension/core/results/report-data';
import type { RunFile } from '../../extension/core/results/run-file';

export type { ReportData };

/** What the person picked in a panel; restored when the panel is shown again. */
export interface ViewState {
  benchmark?: string;
  metric?: string;
}

export type HostMessage = { type: 'show'; data: ReportData; view: ViewState };

/** Commands a webview may run, each with the arguments it may pass (checked by the extension's command registry). */
const WEBVIEW_COMMANDS = ['hypershield.results.export', 'hypershield.results.exportImage', 'hypershield.results.compare'] as const;
export type WebviewCommand = (typeof WEBVIEW_COMMANDS)[number];

export type WebviewMessage =
  | { type: 'ready' }
  /** ms: drawing time; pageMs: time since the page started loading (script load and waiting included). */
  | { type: 'rendered'; ms: number; pageMs: number; charts: number }
  | { type: 'view'; view: ViewState }
  | { type: 'command'; command: WebviewCommand; args: unknown[] }
  | { type: 'error'; message: string };

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isOptionalString = (x: unknown) => x === undefined || typeof x === 'string';

export function isViewState(x: unknown): x is ViewState {
  return isObject(x) && isOptionalString(x.benchmark) && isOptionalString(x.metric);
}

/** A structural check of a run file: enough for the views to draw it without throwing. */
function isRunFile(x: unknown): x is RunFile {
  if (!isObject(x) || typeof x.id !== 'string' || typeof x.status !== 'string' || !isObject(x.metadata)) return false;
  if (!Array.isArray(x.results) || !Array.isArray(x.summary)) return false;
  const plan = x.metadata.plan;
  return isObject(plan) && Array.isArray(plan.benchmarks) && typeof x.metadata.startedAt === 'string' &&
    x.results.every((m) => isObject(m) && typeof m.benchmark === 'string' && typeof m.mode === 'string' &&
      typeof m.placement === 'string' && typeof m.repetition === 'number' && isObject(m.metrics)) &&
    x.summary.every((s) => isObject(s) && typeof s.benchmark === 'string' && typeof s.metric === 'string' && isObject(s.stats));
}

export function isReportData(x: unknown): x is ReportData {
  return isObject(x) && isRunFile(x.run) && (x.compare === undefined || isRunFile(x.compare)) &&
    isObject(x.headlines) && Object.values(x.headlines).every((v) => typeof v === 'string');
}

export function isHostMessage(x: unknown): x is HostMessage {
  return isObject(x) && x.type === 'show' && isReportData(x.data) && isViewState(x.view);
}

export function isWebviewMessage(x: unknown): x is WebviewMessage {
  if (!isObject(x)) return false;
  switch (x.type) {
    case 'ready':
      return true;
    case 'rendered':
      return typeof x.ms === 'number' && typeof x.pageMs === 'number' && typeof x.charts === 'number';
    case 'view':
      return isViewState(x.view);
    case 'command':
      return (WEBVIEW_COMMANDS as readonly unknown[]).includes(x.command) && Array.isArray(x.args);
    case 'error':
      return typeof x.message === 'string';
    default:
      return false;
  }
}
