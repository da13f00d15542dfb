// What a benchmark run measures, its defaults and its validation: the one source the CLI, the VS Code settings
// and tasks (package.json mirrors these defaults; a unit test keeps them equal) and the run file use.
// The shape is schemas/plan.schema.json.
import type { Placement } from '../results/run-file';
import type { Mode } from '../testbed/testbed';
import planSchema from '../../../schemas/plan.schema.json';
import { describeErrors, validator } from '../util/schemas';
import type { PinOption } from './pinning';

export interface RunPlan {
  benchmarks: string[];
  modes: Mode[];
  /** An explicit placement matrix, deployed in turn; without it the run measures whatever is deployed now. */
  placements?: Placement[];
  /** Recorded rounds; each measures every benchmark, mode and placement once. */
  repetitions: number;
  /** Unrecorded warm-up rounds before the recorded ones. */
  warmup: number;
  durationS: number;
  /** Pin the client's, server's and model's processes to CPUs (see pinning.ts). */
  pin?: PinOption;
}

/** The defaults of every plan field that has one. */
export const PLAN_DEFAULTS = {
  benchmarks: ['iperf3', 'ping'],
  modes: ['direct', 'model'],
  repetitions: 6,
  warmup: 1,
  durationS: 10,
} as const satisfies Omit<RunPlan, 'placements' | 'pin'>;

/** The CLI option of each plan field, so a refused plan names what the person typed. */
export const PLAN_OPTIONS: Record<keyof RunPlan, string> = {
  benchmarks: '--benchmarks',
  modes: '--modes',
  placements: '--placements',
  repetitions: '--reps',
  warmup: '--warmup',
  durationS: '--duration',
  pin: '--pin',
};

export class PlanError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid benchmark plan:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'PlanError';
  }
}

/** Throws PlanError naming each bad field (and its CLI option) unless `plan` matches schemas/plan.schema.json. */
export function validatePlan(plan: unknown): asserts plan is RunPlan {
  const validate = validator('plan');
  if (validate(plan)) return;
  throw new PlanError(describeErrors(validate.errors, plan, (p) => {
    const field = p.split('/')[1] as keyof RunPlan | undefined;
    return field && PLAN_OPTIONS[field] ? `${field} (${PLAN_OPTIONS[field]})${p.slice(field.length + 1)}` : p;
  }));
}

type CountField = 'repetitions' | 'warmup' | 'durationS';

/**
 * Parses a whole-number plan field as typed on a command line, within the schema's limits: `--reps 2.5` is refused
 * with the option's name instead of being rounded or passed on.
 */
export function parseCount(field: CountField, value: string): number {
  const { minimum: min, maximum: max } = planSchema.properties[field] as { minimum: number; maximum?: number };
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min || (max !== undefined && n > max)) {
    throw new Error(`${PLAN_OPTIONS[field]} needs a whole number ${max !== undefined ? `from ${min} to ${max}` : `>= ${min}`} (got "${value}").`);
  }
  return n;
}
