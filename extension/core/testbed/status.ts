import type { Backend } from '../backends/backend';
import { ROLES, type BackendKind, type HostStatus, type Role } from '../hosts/host';
import type { DeployedModel } from './state';
import type { Mode } from './testbed';

export interface TestbedStatus {
  name: string;
  backend: BackendKind;
  source: string;
  /** up: every host running; partial: some objects exist (crashed up, or a host died); down: nothing exists. */
  state: 'up' | 'partial' | 'down';
  mode?: Mode;
  hosts: Array<HostStatus & { role: Role; label: string }>;
  deployed?: DeployedModel;
}

export async function testbedStatus(backend: Backend): Promise<TestbedStatus> {
  const st = backend.state.read();
  const hosts = await Promise.all(ROLES.map(async (role) => {
    const h = backend.host(role);
    const s = await h.status().catch((err: Error): HostStatus => ({ state: 'unreachable', addresses: [], detail: err.message }));
    return { role, label: h.label, ...s };
  }));
  const running = hosts.filter((h) => h.state === 'running').length;
  const state = st?.phase === 'up' && running === hosts.length ? 'up' : st || running > 0 ? 'partial' : 'down';
  return {
    name: backend.testbed.name,
    backend: backend.testbed.backend,
    source: backend.testbed.source,
    state,
    mode: st?.mode,
    hosts,
    deployed: st?.deployed,
  };
}
