// What undoes a deployment, kept ON THE MODEL HOST: one file per step, each holding an argv (NUL-separated).
// Every step is recorded before the change it undoes is made, so the workbench (on failure or undeploy) and the
// watchdog (when the workbench stops answering) can roll back whatever was done, in reverse order.
import * as path from 'node:path';
import { run, type Host } from '../../hosts/host';
import type { RunDir } from './run-dir';

export interface UndoStep {
  name: string;
  argv: string[];
}

export interface UndoOutcome {
  /** Steps whose command failed, with their output (steps are idempotent: "already gone" is not a failure). */
  failures: string[];
}

const stepFile = (index: number, name: string) => `${String(index).padStart(3, '0')}-${name}`;

export class UndoPlan {
  private steps: UndoStep[] = [];

  constructor(private readonly host: Host, private readonly dir: RunDir) {}

  /** Records a step on the host; call it BEFORE making the change the step undoes. */
  async add(name: string, argv: string[], signal?: AbortSignal): Promise<void> {
    if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`Undo step names are lower-case words: ${name}`);
    this.steps.push({ name, argv });
    const file = path.posix.join(this.dir.undo, stepFile(this.steps.length, name));
    await run(this.host, ['sh', '-c', 'cat > "$1"', 'hs-undo-write', file], { stdin: argv.join('\0'), signal, timeoutMs: 15_000 });
  }

  /** The plan recorded on the host by an earlier deployment (empty when there is none). */
  static async load(host: Host, dir: RunDir, signal?: AbortSignal): Promise<UndoPlan> {
    const plan = new UndoPlan(host, dir);
    const list = await host.exec(['ls', dir.undo], { signal, timeoutMs: 15_000 });
    if (list.code !== 0) return plan;
    for (const file of list.stdout.split('\n').filter(Boolean).sort()) {
      const text = await run(host, ['cat', path.posix.join(dir.undo, file)], { signal, timeoutMs: 15_000 });
      plan.steps.push({ name: file.replace(/^\d+-/, ''), argv: text.split('\0') });
    }
    return plan;
  }

  get size(): number {
    return this.steps.length;
  }

  /** Runs every step, last recorded first; keeps going after a failure so as much as possible is undone. */
  async run(signal?: AbortSignal): Promise<UndoOutcome> {
    const failures: string[] = [];
    for (const step of [...this.steps].reverse()) {
      const r = await this.host.exec(step.argv, { signal, timeoutMs: 30_000 });
      if (r.code !== 0) failures.push(`${step.name}: \`${step.argv.join(' ')}\` ${r.timedOut ? 'timed out' : `exited with ${r.code}`}: ${(r.stderr || r.stdout).trim()}`);
    }
    this.steps = [];
    return { failures };
  }
}
