import type { Backend } from '../backends/backend';
import { ROLES, type BackendKind, type HostStatus, type Role } from '../hosts/host';
import { processAlive } from '../util/pid';
import { foreignClaim } from './ownership';
import type { DeployAttempt, DeployedModel } from './state';
import type { Mode } from './testbed';

export interface TestbedStatus {
  name: string;
  backend: BackendKind;
  source: string;
  /**
   * up: every host running; partial: some objects exist (crashed up, or a host died); down: nothing exists, or (on
   * existing machines) nothing was changed on them. `hosts` says what each host is in any state.
   */
  state: 'up' | 'partial' | 'down';
  mode?: Mode;
  hosts: Array<HostStatus & { role: Role; label: string }>;
  deployed?: DeployedModel;
  /** A deploy whose process died before it finished: what it made may still be on the model host. */
  interruptedDeploy?: DeployAttempt;
  /** Set when the hosts with this testbed's names belong to another workspace: none of them is this one's. */
  owner?: { workspace: string; since: string };
}

export async function testbedStatus(backend: Backend): Promise<TestbedStatus> {
  const claim = foreignClaim(backend.testbed.name, backend.state.file);
  if (claim) {
    return { name: backend.testbed.name, backend: backend.testbed.backend, source: backend.testbed.source, state: 'down', hosts: [], owner: { workspace: claim.workspace, since: claim.since } };
  }
  const st = backend.state.read();
  const hosts = await Promise.all(ROLES.map(async (role) => {
    const h = backend.host(role);
    const s = await h.status().catch((err: Error): HostStatus => ({ state: 'unreachable', addresses: [], detail: err.message }));
    return { role, label: h.label, ...s };
  }));
  const running = hosts.filter((h) => h.state === 'running').length;
  // A running existing machine (SSH) is no part of the testbed until up records a change on it.
  const leftovers = backend.capabilities.createsHosts && running > 0;
  const state = st?.phase === 'up' && running === hosts.length ? 'up' : st || leftovers ? 'partial' : 'down';
  return {
    name: backend.testbed.name,
    backend: backend.testbed.backend,
    source: backend.testbed.source,
    state,
    mode: st?.mode,
    hosts,
    deployed: st?.deployed,
    interruptedDeploy: st?.deploying && !processAlive(st.deploying.pid) ? st.deploying : undefined,
  };
}
