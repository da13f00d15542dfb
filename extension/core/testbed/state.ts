import * as fs from 'node:fs';
import * as path from 'node:path';
import { readJson, writeFileAtomic } from '../util/atomic-file';
import type { BackendKind } from '../hosts/host';
import type { Mode } from './testbed';

/** One thing a backend created; recorded before it is created so `down` can remove it after any crash. */
export interface CreatedObject {
  kind: string;
  name: string;
  /** Backend-specific detail needed to remove it (e.g. the namespace a link lives in). */
  [detail: string]: string;
}

export interface DeployedModel {
  placement: 'user' | 'kernel' | 'ebpf';
  dir: string;
  sourceHash: string;
  buildId: string;
  deployedAt: string;
  /** Backend/placement specific facts needed to undeploy (pid file, module name, rules). */
  detail: Record<string, string>;
}

/** A deploy under way, recorded before its first step on the host: if its process dies, status shows it interrupted. */
export interface DeployAttempt {
  placement: DeployedModel['placement'];
  dir: string;
  pid: number;
  startedAt: string;
  watchdogSeconds: number;
}

export interface TestbedState {
  name: string;
  backend: BackendKind;
  mode: Mode;
  /** "partial" while `up` has not finished (or crashed). */
  phase: 'partial' | 'up';
  createdAt: string;
  objects: CreatedObject[];
  deployed?: DeployedModel;
  deploying?: DeployAttempt;
}

/** Where a workspace keeps its testbeds' state files, one per testbed name. */
export function stateDir(workspace: string): string {
  return path.join(workspace, '.hypershield', 'state');
}

/** The state file of one testbed, kept in the workspace next to the results. */
export class StateStore {
  readonly file: string;

  constructor(workspace: string, name: string) {
    this.file = path.join(stateDir(workspace), `${name}.json`);
  }

  read(): TestbedState | undefined {
    return readJson<TestbedState>(this.file);
  }

  write(state: TestbedState): void {
    writeFileAtomic(this.file, JSON.stringify(state, null, 2) + '\n');
  }

  update(fn: (s: TestbedState) => void): TestbedState {
    const s = this.read();
    if (!s) throw new Error(`The testbed is not up (no state in ${this.file}); run \`hypershield up\` first.`);
    fn(s);
    this.write(s);
    return s;
  }

  /** Appends an object to the record before the caller creates it. */
  record(obj: CreatedObject): void {
    this.update((s) => {
      if (!s.objects.some((o) => o.kind === obj.kind && o.name === obj.name)) s.objects.push(obj);
    });
  }

  remove(): void {
    fs.rmSync(this.file, { force: true });
  }
}
