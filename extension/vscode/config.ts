import * as vscode from 'vscode';
import type { Mode } from '../core/testbed/testbed';
import { PLAN_DEFAULTS } from '../core/bench/plan';

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
    benchmarks: c.get<string[]>('bench.benchmarks', [...PLAN_DEFAULTS.benchmarks]),
    modes: c.get<Mode[]>('bench.modes', [...PLAN_DEFAULTS.modes]),
    repetitions: c.get<number>('bench.repetitions', PLAN_DEFAULTS.repetitions),
    warmup: c.get<number>('bench.warmup', PLAN_DEFAULTS.warmup),
    durationS: c.get<number>('bench.durationSeconds', PLAN_DEFAULTS.durationS),
  };
}

export function openResultsAfterRun(): boolean {
  return section().get<boolean>('results.openAfterRun', true);
}

export function statusBarEnabled(): boolean {
  return section().get<boolean>('statusBar.enabled', true);
}
