import { type Role, ROLES } from '../hosts/host';
import { SshHost } from '../hosts/ssh-host';
import { SshConnection, type SecretPrompt } from '../hosts/ssh/connection';
import { resolveTarget } from '../hosts/ssh/ssh-config';
import { addressPlan, type HostSpec, type Mode, type Testbed } from '../testbed/testbed';
import type { CreatedObject, StateStore } from '../testbed/state';
import { routePlan, routeReplaceArgv, routingMessage } from '../testbed/routes';
import type { Backend, BackendCapabilities, BackendChange, ModelInterfaces, WorkOptions } from './backend';

export interface SshBackendOptions {
  /** Default ~/.ssh/config. */
  sshConfigFile?: string;
  /** Asks for a key's passphrase (a CLI prompt on a terminal, SecretStorage in VS Code). */
  askSecret?: SecretPrompt;
  connectTimeoutMs?: number;
  /** Keep-alive interval of the connections (default that of SshConnection); three unanswered ones mean the host is gone. */
  keepaliveMs?: number;
}

/** Every command of this backend on a host is bounded by this (cleanup too): a hung host never hangs `down`. */
const COMMAND_TIMEOUT_MS = 15_000;

/** A host that did not answer (no connection, or a command timed out), as opposed to a command that failed there. */
class NoAnswer extends Error {}

/** Which interface of each role faces which peer (hosts.<role>.interfaces in the testbed file). */
const NEEDED: Record<Role, { required: Role[]; direct: Role[] }> = {
  client: { required: ['model'], direct: ['server'] },
  model: { required: ['client', 'server'], direct: [] },
  server: { required: ['model'], direct: ['client'] },
};

// What PROBE prints, one host's facts in one round trip:
//   uid=0
//   sudo=no
//   conn=10.0.2.2 50022 10.0.2.15 22
//   forward=0
//   modules=yes
//   ---
//   [{"ifindex":1,"ifname":"lo",...},{"ifindex":5,"ifname":"to-model","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],
//     "operstate":"UP",...,"addr_info":[{"family":"inet","local":"198.18.1.2","prefixlen":24,...}]}]
// (`ip -4` would leave out interfaces without an IPv4 address, which are the ones up must find.)
const PROBE = 'echo "uid=$(id -u)"; if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then echo sudo=yes; else echo sudo=no; fi; ' +
  'echo "conn=$SSH_CONNECTION"; echo "forward=$(cat /proc/sys/net/ipv4/ip_forward)"; if [ -e /proc/modules ] && [ "$(cat /proc/sys/kernel/modules_disabled 2>/dev/null)" != 1 ]; then echo modules=yes; else echo modules=no; fi; ' +
  'echo ---; ip -j addr show';

interface Probe {
  /** [] as root, ["sudo", "-n"] for a user with passwordless sudo. */
  asRoot: string[];
  modules: boolean;
  /** net.ipv4.ip_forward as read ("0" or "1"). */
  forwarding: string;
  /** The address this connection reached the host at (from SSH_CONNECTION), when known. */
  serverAddress?: string;
  links: Array<{ ifname: string; flags: string[]; addr_info: Array<{ family: string; local: string; prefixlen: number }> }>;
}

function parseProbe(out: string): Omit<Probe, 'asRoot'> & { uid: number; sudo: boolean } {
  const [head, json] = out.split('\n---\n');
  const kv = Object.fromEntries(head.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  return {
    uid: Number(kv.uid),
    sudo: kv.sudo === 'yes',
    modules: kv.modules === 'yes',
    forwarding: kv.forward,
    serverAddress: kv.conn?.split(' ')[2] || undefined,
    links: JSON.parse(json) as Probe['links'],
  };
}

const inSubnet = (address: string, cidr24: string) => address.split('.').slice(0, 3).join('.') === cidr24.split('.').slice(0, 3).join('.');

/**
 * Three existing machines over SSH (lab machines, VMs made elsewhere). Their testbed interfaces exist and are named
 * in the testbed file; `up` connects, checks them, adds the planned addresses they lack, turns on forwarding on the
 * model, and routes client<->server for the mode; every change is recorded first (with what it replaced) so `down`
 * undoes exactly those. Commands that need root run as the SSH user, who must be root or have `sudo -n`.
 */
export class SshBackend implements Backend {
  readonly modelInterfaces: ModelInterfaces;
  private readonly hosts = new Map<Role, SshHost>();
  private readonly probes = new Map<Role, Promise<Probe>>();
  private readonly listeners = new Set<(change: BackendChange) => void>();
  private moduleLoading = false;

  constructor(readonly testbed: Testbed, readonly state: StateStore, private readonly opts: SshBackendOptions = {}) {
    const m = testbed.hosts.model?.interfaces ?? {};
    this.modelInterfaces = { client: m.client ?? '(hosts.model.interfaces.client)', server: m.server ?? '(hosts.model.interfaces.server)' };
  }

  /** Module loading is known once the model host was probed (by preflight, up or a mode change). */
  get capabilities(): BackendCapabilities {
    return { ownKernel: true, moduleLoading: this.moduleLoading, emulated: false, ownFileSystem: true, runsLocalBuilds: false, interactiveShell: true, createsHosts: false };
  }

  private spec(role: Role): HostSpec {
    const spec = this.testbed.hosts[role];
    if (!spec?.sshHost) throw new Error(`The ssh backend needs hosts.${role}.sshHost in ${this.testbed.source} (a Host alias from ~/.ssh/config, or [user@]address).`);
    return spec;
  }

  host(role: Role): SshHost {
    let h = this.hosts.get(role);
    if (!h) {
      const spec = this.spec(role);
      const target = resolveTarget(spec, { configFile: this.opts.sshConfigFile });
      const conn = new SshConnection({ ...target, label: `${role} ${target.label}` }, { askSecret: this.opts.askSecret, connectTimeoutMs: this.opts.connectTimeoutMs, keepaliveMs: this.opts.keepaliveMs });
      const shell = ['ssh', '-t', ...(spec.sshPort ? ['-p', String(spec.sshPort)] : []), ...(spec.sshUser ? ['-l', spec.sshUser] : []),
        ...(spec.sshIdentityFile ? ['-i', spec.sshIdentityFile] : []), ...(this.opts.sshConfigFile ? ['-F', this.opts.sshConfigFile] : []), spec.sshHost!];
      h = new SshHost(role, 'ssh', conn, `${role} (ssh ${target.label})`, shell, Object.values(spec.interfaces ?? {}));
      const label = h.label;
      conn.onDidDrop((why) => {
        for (const l of this.listeners) l({ role, what: `${label}: the SSH connection was lost (${why}); the next command connects again` });
      });
      this.hosts.set(role, h);
    }
    return h;
  }

  /** The name of the role's interface that faces `peer`; undefined when the file names none. */
  private iface(role: Role, peer: Role): string | undefined {
    return this.testbed.hosts[role]?.interfaces?.[peer];
  }

  private hasDirectLink(): boolean {
    return ROLES.every((r) => NEEDED[r].direct.every((p) => this.iface(r, p)));
  }

  /** Connects to a host (once) and reads what up needs; refuses a user who is neither root nor allowed `sudo -n`. */
  private probe(role: Role, signal?: AbortSignal): Promise<Probe> {
    let p = this.probes.get(role);
    if (!p) {
      p = (async () => {
        const h = this.host(role);
        const r = await h.exec(['sh', '-c', PROBE], { signal, timeoutMs: COMMAND_TIMEOUT_MS }).catch((err: Error) => { throw new NoAnswer(err.message); });
        if (r.code !== 0) {
          const message = `${h.label}: checking the host failed (${r.timedOut ? 'no answer within 15 s' : r.stderr.trim() || `exit code ${r.code}`}).`;
          throw r.timedOut ? new NoAnswer(message) : new Error(message);
        }
        const facts = parseProbe(r.stdout);
        if (facts.uid !== 0 && !facts.sudo) {
          throw new Error(`${h.label}: the SSH user (uid ${facts.uid}) is neither root nor allowed to run \`sudo -n\` without a password; ` +
            'routes and addresses need root. Connect as root (sshUser/User), or give the user NOPASSWD sudo for ip and sysctl.');
        }
        if (role === 'model') this.moduleLoading = facts.modules;
        return { ...facts, asRoot: facts.uid === 0 ? [] : ['sudo', '-n'] };
      })();
      this.probes.set(role, p);
      p.catch(() => this.probes.delete(role));
    }
    return p;
  }

  /** Runs a command as root on a host, bounded; rejects naming the host, the command and how it ran. */
  private async asRoot(role: Role, argv: string[], signal?: AbortSignal): Promise<string> {
    const { asRoot } = await this.probe(role, signal);
    const h = this.host(role);
    const full = [...asRoot, ...argv];
    const r = await h.exec(full, { signal, timeoutMs: COMMAND_TIMEOUT_MS }).catch((err: Error) => { throw new NoAnswer(err.message); });
    if (r.code !== 0) {
      const how = asRoot.length ? 'with sudo -n' : 'as root';
      const message = `${h.label}: \`${full.join(' ')}\` (run ${how}) ${r.timedOut ? 'did not finish within 15 s' : `failed: ${r.stderr.trim() || `exit code ${r.code}`}`}`;
      throw r.timedOut ? new NoAnswer(message) : new Error(message);
    }
    return r.stdout;
  }

  /** Reports a host whose connection dropped or that stopped answering (see SshConnection.onDidDrop). */
  onDidChange(listener: (change: BackendChange) => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  async dispose(): Promise<void> {
    await Promise.all([...this.hosts.values()].map((h) => h.conn.dispose()));
    this.hosts.clear();
    this.probes.clear();
  }

  async preflight(): Promise<string[]> {
    const problems: string[] = [];
    for (const role of ROLES) {
      const spec = this.testbed.hosts[role];
      if (!spec?.sshHost) { problems.push(`hosts.${role}.sshHost is missing in ${this.testbed.source}.`); continue; }
      const missing = NEEDED[role].required.filter((p) => !spec.interfaces?.[p]);
      if (missing.length) problems.push(`hosts.${role}.interfaces needs ${missing.map((p) => `"${p}"`).join(' and ')}: the name of the interface facing that host.`);
    }
    if (problems.length) return problems;
    const checked = await Promise.all(ROLES.map((r) => this.checkHost(r).then(() => undefined, (err: Error) => err.message)));
    return checked.filter((p): p is string => p !== undefined);
  }

  /** The host is reachable, its named interfaces exist, and SSH does not run over a testbed link. */
  private async checkHost(role: Role, signal?: AbortSignal): Promise<Probe> {
    const p = await this.probe(role, signal);
    const h = this.host(role);
    for (const [peer, name] of Object.entries(this.testbed.hosts[role]?.interfaces ?? {})) {
      if (!p.links.some((l) => l.ifname === name)) {
        throw new Error(`${h.label} has no interface ${name} (hosts.${role}.interfaces.${peer}); it has ${p.links.map((l) => l.ifname).join(', ')}.`);
      }
    }
    const subnet = p.serverAddress && Object.values(this.testbed.subnets).find((s) => inSubnet(p.serverAddress!, s));
    if (subnet) {
      throw new Error(`${h.label} is reached over SSH at ${p.serverAddress}, inside the testbed subnet ${subnet}: changing its routes would cut the ` +
        'connection, and the control traffic would be counted as measured traffic. Reach the host over a management address, or choose other subnets.');
    }
    return p;
  }

  /** The addresses the plan gives each role's interfaces. */
  private plannedAddresses(): Array<{ role: Role; peer: Role; address: string }> {
    const a = addressPlan(this.testbed);
    const all: Array<{ role: Role; peer: Role; address: string }> = [
      { role: 'client', peer: 'model', address: a.clientOnClientNet },
      { role: 'model', peer: 'client', address: a.modelOnClientNet },
      { role: 'model', peer: 'server', address: a.modelOnServerNet },
      { role: 'server', peer: 'model', address: a.serverOnServerNet },
      { role: 'client', peer: 'server', address: a.clientOnDirectNet },
      { role: 'server', peer: 'client', address: a.serverOnDirectNet },
    ];
    return all.filter((x) => this.iface(x.role, x.peer));
  }

  async up(opts: WorkOptions = {}): Promise<void> {
    // What up changes depends on the hosts as they are now, not as an earlier call of this backend saw them.
    this.probes.clear();
    const problems = await this.preflight();
    if (problems.length) throw new Error(problems.join('\n'));
    const existing = this.state.read();
    if (existing?.phase === 'up') {
      opts.progress?.report(`Testbed ${this.testbed.name} is already up`);
      return;
    }
    if (existing) {
      opts.progress?.report('Undoing a half-finished up first');
      await this.down(opts);
    }
    if (this.testbed.mode === 'direct' && !this.hasDirectLink()) throw new Error(this.noDirectLink());
    this.state.write({ name: this.testbed.name, backend: 'ssh', mode: this.testbed.mode, phase: 'partial', createdAt: new Date().toISOString(), objects: [] });
    const probes = Object.fromEntries(await Promise.all(ROLES.map(async (r) => [r, await this.checkHost(r, opts.signal)] as const))) as Record<Role, Probe>;

    opts.progress?.report('Checking the testbed interfaces');
    const prefix = addressPlan(this.testbed).prefix;
    for (const { role, peer, address } of this.plannedAddresses()) {
      const dev = this.iface(role, peer)!;
      const link = probes[role].links.find((l) => l.ifname === dev)!;
      if (!link.flags.includes('UP')) {
        this.state.record({ kind: 'link-up', name: `${role}:${dev}`, role, dev });
        await this.asRoot(role, ['ip', 'link', 'set', 'dev', dev, 'up'], opts.signal);
      }
      if (!link.addr_info.some((x) => x.family === 'inet' && x.local === address)) {
        opts.progress?.report(`Adding ${address}/${prefix} to ${dev} on the ${role} host`);
        this.state.record({ kind: 'address', name: `${role}:${address}/${prefix}`, role, dev, address: `${address}/${prefix}` });
        await this.asRoot(role, ['ip', 'addr', 'add', `${address}/${prefix}`, 'dev', dev], opts.signal);
      }
    }
    const forwarding = probes.model.forwarding;
    if (forwarding !== '1') {
      this.state.record({ kind: 'sysctl', name: 'model:net.ipv4.ip_forward', role: 'model', key: 'net.ipv4.ip_forward', previous: forwarding });
      await this.asRoot('model', ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1'], opts.signal);
    }
    await this.route(this.testbed.mode, opts);
    this.state.update((s) => { s.phase = 'up'; s.mode = this.testbed.mode; });
  }

  private noDirectLink(): string {
    return `Direct mode needs the client-server link: name it in hosts.client.interfaces.server and hosts.server.interfaces.client of ${this.testbed.source}.`;
  }

  async setMode(mode: Mode, opts: WorkOptions = {}): Promise<void> {
    if (this.state.read()?.phase !== 'up') throw new Error(`Testbed ${this.testbed.name} is not up: run \`hypershield up\` first.`);
    if (mode === 'direct' && !this.hasDirectLink()) throw new Error(this.noDirectLink());
    await this.route(mode, opts);
    this.state.update((s) => { s.mode = mode; });
  }

  /** Points the client's route to the server subnet, and the server's back, over the chosen path; records what each replaced. */
  private async route(mode: Mode, opts: WorkOptions): Promise<void> {
    opts.progress?.report(routingMessage(mode));
    // The interfaces are named in the testbed file; up and setMode refuse a mode whose links it does not name.
    const routes = routePlan(this.testbed, mode, (role, peer) => this.iface(role, peer)!);
    // Client and server are separate machines: their routes change at the same time.
    await Promise.all(routes.map(async (r) => {
      const name = `${r.role}:${r.subnet}`;
      if (!this.state.read()?.objects.some((o) => o.kind === 'route' && o.name === name)) {
        // The host may have had its own route to the subnet: down puts that one back.
        const previous = (await this.asRoot(r.role, ['ip', 'route', 'show', 'exact', r.subnet], opts.signal)).trim().split('\n')[0] ?? '';
        this.state.record({ kind: 'route', name, role: r.role, subnet: r.subnet, previous });
      }
      await this.asRoot(r.role, routeReplaceArgv(r), opts.signal);
    }));
  }

  /** Undoes one recorded change. */
  private async undo(o: CreatedObject, signal?: AbortSignal): Promise<void> {
    const role = o.role as Role;
    switch (o.kind) {
      case 'route':
        // `ip route show` prints state flags (linkdown, dead) that `ip route replace` does not take.
        if (o.previous) await this.asRoot(role, ['ip', 'route', 'replace', ...o.previous.split(/\s+/).filter((w) => w !== 'linkdown' && w !== 'dead')], signal);
        else await this.asRoot(role, ['sh', '-c', 'ip route del "$1" 2>/dev/null || ! ip route show exact "$1" | grep -q .', 'hs-route', o.subnet], signal);
        return;
      case 'address':
        await this.asRoot(role, ['sh', '-c', 'ip addr del "$1" dev "$2" 2>/dev/null || ! ip -o addr show dev "$2" to "$1" | grep -q .', 'hs-addr', o.address, o.dev], signal);
        return;
      case 'sysctl':
        await this.asRoot(role, ['sysctl', '-q', '-w', `${o.key}=${o.previous}`], signal);
        return;
      case 'link-up':
        await this.asRoot(role, ['ip', 'link', 'set', 'dev', o.dev, 'down'], signal);
        return;
      default:
        throw new Error(`Unknown object ${o.kind} ${o.name} in ${this.state.file}`);
    }
  }

  async down(opts: WorkOptions = {}): Promise<void> {
    const st = this.state.read();
    if (!st) return;
    const failed: string[] = [];
    // A host that did not answer one step is not asked the rest: each would wait out its own bound.
    const silent = new Map<Role, string>();
    for (const o of [...st.objects].reverse()) {
      const gone = silent.get(o.role as Role);
      if (gone) { failed.push(`${o.kind} ${o.name}: not tried, since ${gone}`); continue; }
      opts.progress?.report(`Undoing ${o.kind} ${o.name}`);
      try {
        await this.undo(o, opts.signal);
        this.state.update((s) => { s.objects = s.objects.filter((x) => !(x.kind === o.kind && x.name === o.name)); });
      } catch (err) {
        failed.push(`${o.kind} ${o.name}: ${(err as Error).message}`);
        if (err instanceof NoAnswer) silent.set(o.role as Role, `${this.host(o.role as Role).label} did not answer`);
      }
    }
    if (failed.length) {
      throw new Error(`Could not undo everything on the SSH hosts; ${this.state.file} keeps what is left, so \`hypershield down\` can try again:\n${failed.join('\n')}`);
    }
    this.state.remove();
  }
}
