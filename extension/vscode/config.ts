import * as vscode from 'vscode';
import type { Mode } from '../core/testbed/testbed';

export interface BenchDefaults {
  benchmarks: string[];
  modes: Mode[];
  repetitions: number;
  warmup: number;
  durationS: number;
}

function section(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration('hypershield');
}

/** Preselected choices of "Run Benchmarks" and the defaults of bench tasks (settings hypershield.bench.*). */
export function benchDefaults(): BenchDefaults {
  const c = section();
  return {
    benchmarks: c.get<string[]>('bench.benchmarks', ['iperf3', 'ping']),
    modes: c.get<Mode[]>('bench.modes', ['direct', 'model']),
    repetitions: c.get<number>('bench.repetitions', 5),
    warmup: c.get<number>('bench.warmup', 1),
    durationS: c.get<number>('bench.durationSeconds', 10),
  };
}

export function openResultsAfterRun(): boolean {
  return section().get<boolean>('results.openAfterRun', true);
}

export function statusBarEnabled(): boolean {
  return section().get<boolean>('statusBar.enabled', true);
}
