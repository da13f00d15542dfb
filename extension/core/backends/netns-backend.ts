import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Host, type Role, ROLES } from '../hosts/host';
import { NetnsHost } from '../hosts/netns-host';
import { execLocal, runLocal } from '../util/local-process';
import { addressPlan, testbedRunDir, type Mode, type Testbed } from '../testbed/testbed';
import type { StateStore } from '../testbed/state';
import { applyRoutePlan } from '../testbed/routes';
import type { Backend, BackendCapabilities, BackendChange, ModelInterfaces, WorkOptions } from './backend';
import { hasNetAdmin, userNamespacesWork } from '../util/privileges';
import { PrivilegedRunner, UserNamespaceRunner, type NamespaceRunner } from './netns-runner';
import type { PrivilegedOps } from '../model/deploy/model-host';
import { HelperClient } from '../privileged/helper-client';

/** The model host's interfaces, where models attach. */
export const NETNS_MODEL_INTERFACES: Readonly<ModelInterfaces> = { client: 'to-client', server: 'to-server' };

/** The namespace of role in testbed. */
export function netnsName(testbed: string, role: Role): string {
  return `hs-${testbed}-${role}`;
}

/**
 * The embedded testbed: three network namespaces joined by veth pairs.
 *   client:to-model  <-> model:to-client   (client subnet)
 *   model:to-server  <-> server:to-model   (server subnet)
 *   client:to-server <-> server:to-client  (direct subnet, used in direct mode)
 * Links are created straight inside the namespaces (`ip -n`), so deleting the namespaces removes everything.
 * Root creates the namespaces on this machine; an ordinary user inside a user namespace of their own (see
 * netns-runner.ts), where everything but loading eBPF programs and kernel modules works without privileges.
 */
export class NetnsBackend implements Backend {
  readonly modelInterfaces: ModelInterfaces = { ...NETNS_MODEL_INTERFACES };
  /** Namespaces share this machine's kernel and files; a module "deployed" here would load into the workstation. */
  readonly capabilities: BackendCapabilities = { ownKernel: false, moduleLoading: false, emulated: false, ownFileSystem: false, runsLocalBuilds: true, interactiveShell: true, createsHosts: true };
  readonly runner: NamespaceRunner;
  /** An ordinary user's testbed loads eBPF programs through the root helper. */
  readonly privileged?: PrivilegedOps;
  private readonly hosts: Record<Role, NetnsHost>;

  constructor(readonly testbed: Testbed, readonly state: StateStore) {
    if (hasNetAdmin()) {
      this.runner = new PrivilegedRunner();
    } else {
      const runner = new UserNamespaceRunner(testbed.name, state);
      this.runner = runner;
      this.privileged = new HelperClient(testbed.name, () => runner.holderPid());
    }
    this.hosts = Object.fromEntries(ROLES.map((r) => [r, new NetnsHost(r, this.namespace(r), this.runner)])) as Record<Role, NetnsHost>;
  }

  namespace(role: Role): string {
    return netnsName(this.testbed.name, role);
  }

  host(role: Role): Host {
    return this.hosts[role];
  }

  /** Nothing here changes without the workbench doing it: there is nothing to watch. */
  onDidChange(_listener: (change: BackendChange) => void): () => void {
    return () => undefined;
  }

  /** No connections: every call is a local process. */
  async dispose(): Promise<void> {}

  async preflight(): Promise<string[]> {
    const problems: string[] = [];
    if (this.runner.kind === 'user-namespace' && !(await userNamespacesWork())) {
      problems.push('The namespace testbed needs root, or user namespaces for ordinary users, which this kernel refuses (`unshare -Urn` fails): ' +
        'allow them (`sudo sysctl kernel.unprivileged_userns_clone=1`, user.max_user_namespaces > 0), or run as root.');
    }
    const ip = await execLocal(['ip', '-V']).catch(() => undefined);
    if (!ip || ip.code !== 0) problems.push('`ip` from iproute2 is missing: apt-get install iproute2');
    return problems;
  }

  async up(opts: WorkOptions = {}): Promise<void> {
    const problems = await this.preflight();
    if (problems.length) throw new Error(problems.join('\n'));
    const existing = this.state.read();
    if (existing?.phase === 'up' && (await this.allNamespacesExist())) {
      opts.progress?.report(`Testbed ${this.testbed.name} is already up`);
      return;
    }
    if (existing) {
      opts.progress?.report('Removing a half-created testbed first');
      await this.down(opts);
    }
    const a = addressPlan(this.testbed);
    const sh = (argv: string[]) => runLocal(this.runner.wrap(argv), { signal: opts.signal, timeoutMs: 10_000 });

    // A namespace with one of our names that this testbed did not record is not ours to adopt (or later delete).
    const taken = this.runner.sharedNames ? await this.existingNamespaces() : new Set<string>();
    const foreign = ROLES.map((r) => this.namespace(r)).filter((ns) => taken.has(ns));
    if (foreign.length) {
      throw new Error(`The namespace${foreign.length > 1 ? 's' : ''} ${foreign.join(', ')} already exist${foreign.length > 1 ? '' : 's'} on this machine but ` +
        `${foreign.length > 1 ? 'were' : 'was'} not created by testbed ${this.testbed.name} of this workspace. Give this testbed another name in ` +
        `hypershield.testbed.json, or remove ${foreign.length > 1 ? 'them' : 'it'} (\`ip netns del NAME\`) if nothing uses ${foreign.length > 1 ? 'them' : 'it'}.`);
    }
    this.state.write({ name: this.testbed.name, backend: 'netns', mode: this.testbed.mode, phase: 'partial', createdAt: new Date().toISOString(), objects: [] });
    await this.runner.start(opts);

    opts.progress?.report('Creating namespaces');
    for (const role of ROLES) {
      const ns = this.namespace(role);
      this.state.record({ kind: 'netns', name: ns });
      await sh(['ip', 'netns', 'add', ns]);
      // Strict reverse-path filtering would drop direct-mode replies that arrive on the other link. The testbed is
      // IPv4 only: IPv6 router solicitations, DAD and MLD would add unmeasured packets to the links (and to the
      // model's counters that the path check reads); -e skips the keys on a kernel booted without IPv6.
      await sh(['ip', 'netns', 'exec', ns, 'sysctl', '-q', '-e', '-w', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0',
        `net.ipv4.ip_forward=${role === 'model' ? 1 : 0}`, 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
      await sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }

    opts.progress?.report('Creating links');
    const link = async (roleA: Role, ifA: string, roleB: Role, ifB: string, addrA: string, addrB: string) => {
      const nsA = this.namespace(roleA);
      const nsB = this.namespace(roleB);
      await sh(['ip', '-n', nsA, 'link', 'add', ifA, 'type', 'veth', 'peer', 'name', ifB, 'netns', nsB]);
      await sh(['ip', '-n', nsA, 'addr', 'add', `${addrA}/${a.prefix}`, 'dev', ifA]);
      await sh(['ip', '-n', nsB, 'addr', 'add', `${addrB}/${a.prefix}`, 'dev', ifB]);
      await sh(['ip', '-n', nsA, 'link', 'set', ifA, 'up']);
      await sh(['ip', '-n', nsB, 'link', 'set', ifB, 'up']);
    };
    await link('client', 'to-model', 'model', 'to-client', a.clientOnClientNet, a.modelOnClientNet);
    await link('model', 'to-server', 'server', 'to-model', a.modelOnServerNet, a.serverOnServerNet);
    await link('client', 'to-server', 'server', 'to-client', a.clientOnDirectNet, a.serverOnDirectNet);

    await this.route(this.testbed.mode, opts);
    this.state.update((s) => { s.phase = 'up'; s.mode = this.testbed.mode; });
  }

  async setMode(mode: Mode, opts: WorkOptions = {}): Promise<void> {
    await this.route(mode, opts);
    this.state.update((s) => { s.mode = mode; });
  }

  /** Sets the mode's routes (see routePlan) through the client and server hosts. */
  private route(mode: Mode, opts: WorkOptions): Promise<void> {
    return applyRoutePlan(this.hosts, this.testbed, mode, { ...opts, timeoutMs: 10_000 });
  }

  async down(opts: WorkOptions = {}): Promise<void> {
    const st = this.state.read();
    const recorded = st?.objects.filter((o) => o.kind === 'netns').map((o) => o.name) ?? [];
    await this.runner.stop(recorded, opts);
    // The hosts' files (daemon pid and log files, a deployed model's) describe processes that are gone now.
    const runDir = testbedRunDir(this.testbed.name);
    fs.rmSync(runDir, { recursive: true, force: true });
    try { fs.rmdirSync(path.dirname(runDir)); } catch { /* another testbed's files are in it, or it is gone */ }
    this.state.remove();
  }

  private async existingNamespaces(): Promise<Set<string>> {
    let argv: string[];
    try {
      argv = this.runner.wrap(['ip', 'netns', 'list']);
    } catch {
      return new Set(); // the user namespace that held them is gone
    }
    const list = await execLocal(argv, { timeoutMs: 10_000 });
    return new Set(list.stdout.split('\n').map((l) => l.split(' ')[0]).filter(Boolean));
  }

  private async allNamespacesExist(): Promise<boolean> {
    const names = await this.existingNamespaces();
    return ROLES.every((r) => names.has(this.namespace(r)));
  }
}
