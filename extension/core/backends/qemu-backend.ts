import * as fs from 'node:fs';
import * as path from 'node:path';
import { utils } from 'ssh2';
import { type Host, type HostStatus, type Role, ROLES, type TransferOptions } from '../hosts/host';
import { NetnsHost } from '../hosts/netns-host';
import { SshHost } from '../hosts/ssh-host';
import { SshConnection } from '../hosts/ssh/connection';
import { execLocal, runLocal } from '../util/local-process';
import { processAlive } from '../util/pid';
import { hasNetAdmin } from '../util/privileges';
import { sleep } from '../util/poll';
import { addressPlan, testbedRunDir, type Mode, type QemuHostSpec, type Testbed } from '../testbed/testbed';
import type { CreatedObject, StateStore } from '../testbed/state';
import { applyRoutePlan } from '../testbed/routes';
import type { Backend, BackendCapabilities, BackendChange, ModelInterfaces, WorkOptions } from './backend';
import { PrivilegedRunner } from './netns-runner';
import { probeAccel, type Accel } from './qemu/accel';
import { defaultVmCache, imagePrerequisites, vmImage } from './qemu/image';
import { consoleState, consoleTail, kernelCommandLine, killVm, namespaceStream, qemuArgv, qemuPid, startVm, type GuestConfig, type Nic, type VmSettings } from './qemu/vm';

/** One testbed link end: the interface of a role on one of the fabric's bridges. */
interface LinkEnd { role: Role; iface: string; bridge: string; address: (a: ReturnType<typeof addressPlan>) => string }

/** The same interfaces and addresses as the namespace testbed; each subnet is a bridge in the fabric namespace. */
const LINKS: readonly LinkEnd[] = [
  { role: 'client', iface: 'to-model', bridge: 'br-client', address: (a) => a.clientOnClientNet },
  { role: 'client', iface: 'to-server', bridge: 'br-direct', address: (a) => a.clientOnDirectNet },
  { role: 'model', iface: 'to-client', bridge: 'br-client', address: (a) => a.modelOnClientNet },
  { role: 'model', iface: 'to-server', bridge: 'br-server', address: (a) => a.modelOnServerNet },
  { role: 'server', iface: 'to-model', bridge: 'br-server', address: (a) => a.serverOnServerNet },
  { role: 'server', iface: 'to-client', bridge: 'br-direct', address: (a) => a.serverOnDirectNet },
];
const BRIDGES = ['br-client', 'br-server', 'br-direct', 'br-mgmt'] as const;

/**
 * The control channel: a bridge of its own in the fabric namespace, never one of the measured links. The fabric
 * namespace is the testbed's own, so this subnet meets no other network.
 */
const MGMT = { bridge: 'br-mgmt', fabric: '198.19.255.1', prefix: 24, vm: (role: Role) => `198.19.255.${10 + ROLES.indexOf(role)}` };

const DEFAULTS = { binary: 'qemu-system-x86_64', memoryMiB: 384, smp: 1, bootTimeoutS: 300 } as const;

/** The fabric-side name of a role's port (15 characters at most). */
const portName = (role: Role, iface: string) => `${role[0]}-${iface}`;
/** Locally administered, unique within the testbed's bridges. */
const macOf = (role: Role, nic: number) => `52:54:00:48:0${ROLES.indexOf(role)}:0${nic}`;

/** What the state file records about a VM (strings only), before QEMU starts. */
interface VmRecord extends CreatedObject {
  kind: 'vm';
  name: Role;
  pidFile: string;
  consoleLog: string;
  hostKey: string;
  accel: Accel;
  mgmt: string;
}

/**
 * QEMU testbeds: the model host (and, when asked, client and server) are VMs with kernels of their own; the other
 * roles are network namespaces. Everything lives in a namespace of the testbed's own (`hs-NAME-net`): one bridge per
 * subnet with the VMs' taps and the namespaces' veths, and a management bridge for the SSH control channel, reached
 * through `socat` run in that namespace, so nothing listens in this machine's own network and its firewall is never
 * touched.
 */
export class QemuBackend implements Backend {
  readonly modelInterfaces: ModelInterfaces = { client: 'to-client', server: 'to-server' };
  private readonly hosts: Record<Role, Host>;
  private readonly listeners = new Set<(change: BackendChange) => void>();
  private watcher?: NodeJS.Timeout;
  private readonly lastSeen = new Map<Role, string>();

  constructor(readonly testbed: Testbed, readonly state: StateStore) {
    if (testbed.hosts.model?.qemu?.vm === false) {
      throw new Error(`${testbed.source}: the model host of a qemu testbed is always a VM; remove hosts.model.qemu.vm.`);
    }
    this.hosts = Object.fromEntries(ROLES.map((r): [Role, Host] => [r, this.isVm(r) ? new VmHost(this, r) : new NetnsHost(r, this.namespace(r), new PrivilegedRunner())])) as Record<Role, Host>;
  }

  get capabilities(): BackendCapabilities {
    const vms = this.vmRecords();
    // Before `up` the accelerator is not known: emulated unless every VM is told to use KVM.
    const emulated = vms.length ? vms.some((v) => v.accel === 'tcg') : ROLES.filter((r) => this.isVm(r)).some((r) => this.spec(r).accel !== 'kvm');
    // The workbench's image is made of this machine's programs and libraries; an initrd of the user's own is not.
    const runsLocalBuilds = !this.spec('model').initrd;
    return { ownKernel: true, moduleLoading: true, emulated, ownFileSystem: true, runsLocalBuilds, interactiveShell: true, createsHosts: true };
  }

  isVm(role: Role): boolean {
    return role === 'model' || this.spec(role).vm === true;
  }

  /** The role's qemu section; the host's older kernel, memoryMiB and cpus fields count when it does not say. */
  spec(role: Role): QemuHostSpec {
    const h = this.testbed.hosts[role];
    return { kernel: h?.kernel, memoryMiB: h?.memoryMiB, smp: h?.cpus, ...h?.qemu };
  }

  /** The testbed's own namespace holding bridges, taps and QEMU processes. */
  get fabric(): string {
    return `hs-${this.testbed.name}-net`;
  }

  namespace(role: Role): string {
    return `hs-${this.testbed.name}-${role}`;
  }

  /** Keys, pid files and console logs: next to the state file. */
  get filesDir(): string {
    return path.join(path.dirname(this.state.file), this.testbed.name);
  }

  consoleLog(role: Role): string {
    return path.join(this.filesDir, `${role}-console.log`);
  }

  get keyFile(): string {
    return path.join(this.filesDir, 'id_ed25519');
  }

  vmRecords(): VmRecord[] {
    return (this.state.read()?.objects.filter((o) => o.kind === 'vm') ?? []) as VmRecord[];
  }

  vmRecord(role: Role): VmRecord | undefined {
    return this.vmRecords().find((v) => v.name === role);
  }

  host(role: Role): Host {
    return this.hosts[role];
  }

  onDidChange(listener: (change: BackendChange) => void): () => void {
    this.listeners.add(listener);
    this.watcher ??= setInterval(() => this.watch(), 2000).unref();
    return () => {
      this.listeners.delete(listener);
      if (!this.listeners.size && this.watcher) { clearInterval(this.watcher); this.watcher = undefined; }
    };
  }

  /** Tells listeners when a VM panics or its QEMU ends without `down`. */
  private watch(): void {
    if (this.state.read()?.phase !== 'up') return;
    for (const vm of this.vmRecords()) {
      const alive = qemuPid(vm.pidFile) !== undefined;
      const panicked = consoleState(readText(vm.consoleLog)) === 'panicked';
      const seen = panicked ? 'panicked' : alive ? 'running' : 'exited';
      if (this.lastSeen.get(vm.name) === seen) continue;
      const before = this.lastSeen.get(vm.name);
      this.lastSeen.set(vm.name, seen);
      if (!before && seen === 'running') continue;
      const what = seen === 'running' ? `the ${vm.name} VM is running` : `the ${vm.name} VM ${seen === 'panicked' ? 'panicked' : 'exited'}; its console says:\n${consoleTail(vm.consoleLog, 15)}`;
      for (const l of this.listeners) l({ role: vm.name, what });
    }
  }

  async dispose(): Promise<void> {
    if (this.watcher) clearInterval(this.watcher);
    this.watcher = undefined;
    await Promise.all(ROLES.map((r) => (this.hosts[r] instanceof VmHost ? (this.hosts[r] as VmHost).close() : undefined)));
  }

  async preflight(): Promise<string[]> {
    const problems: string[] = [];
    if (!(await hasNetAdmin())) problems.push('The qemu testbed needs root (network namespaces, taps, bridges): run as root (e.g. `sudo hypershield up`).');
    const tools: Array<[string[], string]> = [[['ip', '-V'], 'iproute2'], [['socat', '-V'], 'socat']];
    for (const r of ROLES.filter((x) => this.isVm(x))) tools.push([[this.spec(r).binary ?? DEFAULTS.binary, '--version'], 'qemu-system-x86']);
    for (const [argv, pkg] of tools) {
      const r = await execLocal(argv, { timeoutMs: 10_000 }).catch(() => undefined);
      if (!r || r.code !== 0) problems.push(`\`${argv[0]}\` is missing: apt-get install ${pkg}`);
    }
    const own = ROLES.filter((r) => this.isVm(r) && !this.spec(r).initrd);
    if (own.length) problems.push(...imagePrerequisites(own.flatMap((r) => this.spec(r).workloads ?? [])));
    for (const r of ROLES.filter((x) => this.spec(x).workloads?.length)) {
      if (!this.isVm(r)) problems.push(`hosts.${r}.qemu.workloads in ${this.testbed.source}: the ${r} is a namespace, which runs this machine's programs; set hosts.${r}.qemu.vm to true or leave workloads out.`);
      else if (this.spec(r).initrd) problems.push(`hosts.${r}.qemu.workloads in ${this.testbed.source}: workload tools go into the workbench's image, not your own initrd; put them in your initrd and leave workloads out.`);
    }
    for (const r of ROLES.filter((x) => this.isVm(x))) {
      const s = this.spec(r);
      if (s.initrd && !s.kernel) problems.push(`hosts.${r}.qemu in ${this.testbed.source}: an own initrd needs its kernel (kernel) too.`);
      if (s.initrd && !s.hostKey) problems.push(`hosts.${r}.qemu in ${this.testbed.source}: an own initrd needs its SSH host key (hostKey), which the testbed pins.`);
      for (const f of [s.kernel, s.initrd, s.disk]) if (f && !fs.existsSync(this.resolve(f))) problems.push(`hosts.${r}.qemu in ${this.testbed.source}: ${f} does not exist.`);
    }
    if (Object.values(this.testbed.subnets).some((s) => s.startsWith('198.19.255.'))) {
      problems.push(`${this.testbed.source}: 198.19.255.0/24 is the qemu testbed's management subnet; give the testbed subnets other addresses.`);
    }
    return problems;
  }

  private resolve(file: string): string {
    return path.resolve(path.dirname(this.testbed.source), file);
  }

  async up(opts: WorkOptions = {}): Promise<void> {
    const problems = await this.preflight();
    if (problems.length) throw new Error(problems.join('\n'));
    const existing = this.state.read();
    if (existing?.phase === 'up' && (await this.allThere())) {
      opts.progress?.report(`Testbed ${this.testbed.name} is already up`);
      return;
    }
    if (existing) {
      opts.progress?.report('Removing a half-created testbed first');
      await this.down(opts);
    }
    const names = [this.fabric, ...ROLES.filter((r) => !this.isVm(r)).map((r) => this.namespace(r))];
    const taken = await existingNamespaces();
    const foreign = names.filter((n) => taken.has(n));
    if (foreign.length) {
      throw new Error(`The namespace(s) ${foreign.join(', ')} already exist on this machine but were not created by testbed ${this.testbed.name} of this ` +
        'workspace. Give this testbed another name in hypershield.testbed.json, or remove them (`ip netns del NAME`) if nothing uses them.');
    }
    const vmRoles = ROLES.filter((r) => this.isVm(r));
    // Images and the accelerator first: the slow, network-free preparation happens before anything is created.
    const guests = new Map<Role, { settings: VmSettings; hostKey: string; accel: Accel }>();
    for (const role of vmRoles) {
      const s = this.spec(role);
      let kernel: string;
      let initrd: string;
      let hostKey: string;
      if (s.initrd) {
        kernel = this.resolve(s.kernel!);
        initrd = this.resolve(s.initrd);
        hostKey = s.hostKey!;
      } else {
        const image = await vmImage({ release: s.kernelRelease, workloads: s.workloads, signal: opts.signal, progress: opts.progress });
        kernel = s.kernel ? this.resolve(s.kernel) : image.kernel;
        initrd = image.initrd;
        hostKey = image.hostKey;
      }
      const binary = s.binary ?? DEFAULTS.binary;
      let accel: Accel;
      if (s.accel === 'kvm' || s.accel === 'tcg') {
        accel = s.accel;
      } else {
        const probe = await probeAccel(binary, kernel, initrd, defaultVmCache(), opts.signal, opts.progress);
        accel = probe.accel;
        if (probe.reason) opts.progress?.report(`The ${role} VM runs EMULATED (TCG): ${probe.reason}`);
      }
      guests.set(role, {
        accel,
        hostKey,
        settings: { binary, machine: s.machine, cpu: s.cpu, memoryMiB: s.memoryMiB ?? DEFAULTS.memoryMiB, smp: s.smp ?? DEFAULTS.smp, args: s.args ?? [], kernel, initrd, append: s.append ?? '', disk: s.disk ? this.resolve(s.disk) : undefined },
      });
    }
    const authorizedKey = this.clientKey();

    this.state.write({ name: this.testbed.name, backend: 'qemu', mode: this.testbed.mode, phase: 'partial', createdAt: new Date().toISOString(), objects: [] });
    const a = addressPlan(this.testbed);
    const sh = (argv: string[]) => runLocal(argv, { signal: opts.signal, timeoutMs: 10_000 });
    const f = this.fabric;

    opts.progress?.report(`Creating the fabric namespace ${f} and its bridges`);
    this.state.record({ kind: 'netns', name: f });
    await sh(['ip', 'netns', 'add', f]);
    await sh(['ip', 'netns', 'exec', f, 'sysctl', '-q', '-e', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1', 'net.ipv4.ip_forward=0']);
    await sh(['ip', '-n', f, 'link', 'set', 'lo', 'up']);
    for (const br of BRIDGES) {
      this.state.record({ kind: 'bridge', name: br, netns: f });
      await sh(['ip', '-n', f, 'link', 'add', br, 'type', 'bridge']);
      await sh(['ip', '-n', f, 'link', 'set', br, 'up']);
    }
    await sh(['ip', '-n', f, 'addr', 'add', `${MGMT.fabric}/${MGMT.prefix}`, 'dev', MGMT.bridge]);

    for (const role of ROLES.filter((r) => !this.isVm(r))) {
      const ns = this.namespace(role);
      opts.progress?.report(`Creating the ${role} namespace ${ns}`);
      this.state.record({ kind: 'netns', name: ns });
      await sh(['ip', 'netns', 'add', ns]);
      await sh(['ip', 'netns', 'exec', ns, 'sysctl', '-q', '-e', '-w', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0',
        'net.ipv4.ip_forward=0', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
      await sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      for (const l of LINKS.filter((x) => x.role === role)) {
        const port = portName(role, l.iface);
        this.state.record({ kind: 'veth', name: port, netns: f });
        await sh(['ip', '-n', f, 'link', 'add', port, 'type', 'veth', 'peer', 'name', l.iface, 'netns', ns]);
        await sh(['ip', '-n', f, 'link', 'set', port, 'master', l.bridge, 'up']);
        await sh(['ip', '-n', ns, 'addr', 'add', `${l.address(a)}/${a.prefix}`, 'dev', l.iface]);
        await sh(['ip', '-n', ns, 'link', 'set', l.iface, 'up']);
      }
    }

    fs.mkdirSync(this.filesDir, { recursive: true });
    for (const role of vmRoles) {
      const g = guests.get(role)!;
      const nics: Nic[] = [{ tap: portName(role, 'mgmt'), mac: macOf(role, 0), name: 'mgmt', address: `${MGMT.vm(role)}/${MGMT.prefix}` },
        ...LINKS.filter((l) => l.role === role).map((l, i) => ({ tap: portName(role, l.iface), mac: macOf(role, i + 1), name: l.iface, address: `${l.address(a)}/${a.prefix}` }))];
      const bridgeOf = (n: Nic) => (n.name === 'mgmt' ? MGMT.bridge : LINKS.find((l) => l.role === role && l.iface === n.name)!.bridge);
      for (const n of nics) {
        this.state.record({ kind: 'tap', name: n.tap, netns: f });
        await sh(['ip', '-n', f, 'tuntap', 'add', 'dev', n.tap, 'mode', 'tap']);
        await sh(['ip', '-n', f, 'link', 'set', n.tap, 'master', bridgeOf(n), 'up']);
      }
      const guest: GuestConfig = { hostname: `${this.testbed.name}-${role}`, nics, forward: role === 'model', authorizedKey };
      const rec: VmRecord = { kind: 'vm', name: role, pidFile: path.join(this.filesDir, `${role}.pid`), consoleLog: this.consoleLog(role), hostKey: g.hostKey, accel: g.accel, mgmt: MGMT.vm(role) };
      fs.rmSync(rec.pidFile, { force: true });
      this.state.record(rec);
      opts.progress?.report(`Starting the ${role} VM (${g.accel === 'tcg' ? 'emulated, TCG' : 'KVM'}, ${g.settings.memoryMiB} MiB, ${g.settings.smp} vCPU)`);
      fs.writeFileSync(path.join(this.filesDir, `${role}.cmdline`), kernelCommandLine(guest, g.settings.append) + '\n');
      await startVm(f, qemuArgv(g.settings, g.accel, `hs-${this.testbed.name}-${role}`, guest, rec.consoleLog, rec.pidFile), opts.signal);
    }
    await Promise.all(vmRoles.map((r) => (this.hosts[r] as VmHost).waitReady(opts, (this.spec(r).bootTimeoutS ?? DEFAULTS.bootTimeoutS) * 1000)));

    await this.route(this.testbed.mode, opts);
    this.state.update((s) => { s.phase = 'up'; s.mode = this.testbed.mode; });
  }

  /** The testbed's SSH key (made once, kept with the state); returns its public key line. */
  private clientKey(): string {
    const pub = `${this.keyFile}.pub`;
    if (!fs.existsSync(this.keyFile) || !fs.existsSync(pub)) {
      const pair = utils.generateKeyPairSync('ed25519', { comment: `hypershield-${this.testbed.name}` });
      fs.mkdirSync(this.filesDir, { recursive: true });
      fs.writeFileSync(this.keyFile, pair.private, { mode: 0o600 });
      fs.writeFileSync(pub, pair.public + '\n');
    }
    return fs.readFileSync(pub, 'utf8').trim();
  }

  async setMode(mode: Mode, opts: WorkOptions = {}): Promise<void> {
    await this.route(mode, opts);
    this.state.update((s) => { s.mode = mode; });
  }

  /** Sets the mode's routes (see routePlan) through the client and server hosts (VMs over SSH). */
  private route(mode: Mode, opts: WorkOptions): Promise<void> {
    return applyRoutePlan(this.hosts, this.testbed, mode, { ...opts, timeoutMs: 20_000 });
  }

  async down(opts: WorkOptions = {}): Promise<void> {
    const st = this.state.read();
    const objects = st?.objects ?? [];
    const vms = objects.filter((o) => o.kind === 'vm') as VmRecord[];
    await Promise.all(vms.map(async (vm) => {
      const pid = qemuPid(vm.pidFile);
      if (pid === undefined) return;
      opts.progress?.report(`Shutting the ${vm.name} VM down`);
      await (this.hosts[vm.name] as VmHost).powerOff(pid);
    }));
    await Promise.all(ROLES.map((r) => (this.hosts[r] instanceof VmHost ? (this.hosts[r] as VmHost).close() : undefined)));
    // Deleting a namespace removes its bridges, taps and veths; processes still in it (a QEMU whose pid file was
    // never written, a forwarder) are ended first.
    for (const ns of objects.filter((o) => o.kind === 'netns').map((o) => o.name).reverse()) {
      opts.progress?.report(`Removing namespace ${ns}`);
      const pids = await execLocal(['ip', 'netns', 'pids', ns], { timeoutMs: 10_000 });
      const list = pids.stdout.split(/\s+/).filter(Boolean).map(Number);
      await Promise.all(list.map((pid) => killVm(pid, 2000)));
      const del = await execLocal(['ip', 'netns', 'del', ns], { timeoutMs: 10_000 });
      if (del.code !== 0 && !/No such file|not found|Invalid/i.test(del.stderr)) throw new Error(`Could not remove namespace ${ns}: ${del.stderr.trim()}`);
    }
    for (const vm of vms) fs.rmSync(vm.pidFile, { force: true });
    // Namespace hosts share this machine's /run: their daemons' pid and log files go with them.
    if (ROLES.some((r) => !this.isVm(r))) {
      const runDir = testbedRunDir(this.testbed.name);
      fs.rmSync(runDir, { recursive: true, force: true });
      try { fs.rmdirSync(path.dirname(runDir)); } catch { /* another testbed's files are in it, or it is gone */ }
    }
    this.lastSeen.clear();
    this.state.remove();
  }

  private async allThere(): Promise<boolean> {
    const names = await existingNamespaces();
    const namespaces = [this.fabric, ...ROLES.filter((r) => !this.isVm(r)).map((r) => this.namespace(r))];
    return namespaces.every((n) => names.has(n)) && ROLES.filter((r) => this.isVm(r)).every((r) => {
      const vm = this.vmRecord(r);
      return vm !== undefined && qemuPid(vm.pidFile) !== undefined;
    });
  }
}

function readText(file: string): string {
  try { return fs.readFileSync(file, 'utf8'); } catch { return ''; }
}

async function existingNamespaces(): Promise<Set<string>> {
  const list = await execLocal(['ip', 'netns', 'list'], { timeoutMs: 10_000 });
  return new Set(list.stdout.split('\n').map((l) => l.split(' ')[0]).filter(Boolean));
}

/**
 * A VM of the testbed, reached over SSH on its management NIC with the testbed's key and the image's pinned host
 * key. The connection is made on first use and kept.
 */
class VmHost implements Host {
  readonly kind = 'qemu' as const;
  readonly label: string;
  private ssh?: { host: SshHost; key: string };

  constructor(private readonly backend: QemuBackend, readonly role: Role) {
    this.label = `${role} (VM hs-${backend.testbed.name}-${role})`;
  }

  /** The SSH host for the VM that the state file records now (a new one after the testbed was re-created). */
  private current(): SshHost {
    const vm = this.backend.vmRecord(this.role);
    if (!vm) throw new Error(`The ${this.role} VM of testbed ${this.backend.testbed.name} is not up: run \`hypershield up\`.`);
    const key = `${vm.pidFile}|${vm.hostKey}|${vm.mgmt}|${fs.statSync(this.backend.keyFile).mtimeMs}`;
    if (this.ssh?.key === key) return this.ssh.host;
    void this.ssh?.host.conn.dispose();
    const fabric = this.backend.fabric;
    const conn = new SshConnection({
      host: vm.mgmt,
      username: 'root',
      privateKey: fs.readFileSync(this.backend.keyFile),
      hostKeys: { kind: 'pinned', keys: [vm.hostKey] },
      sock: async () => namespaceStream(fabric, vm.mgmt, 22),
      label: this.label,
    }, { connectTimeoutMs: 20_000, keepaliveMs: 10_000 });
    const host = new SshHost(this.role, 'qemu', conn, this.label, this.terminal(vm), ['to-model', 'to-client', 'to-server']);
    this.ssh = { host, key };
    return host;
  }

  /** The system ssh client in the fabric namespace, with the same key and the pinned host key. */
  private terminal(vm: VmRecord): string[] {
    const knownHosts = path.join(this.backend.filesDir, `${this.role}.known_hosts`);
    fs.writeFileSync(knownHosts, `${vm.mgmt} ${vm.hostKey}\n`);
    return ['ip', 'netns', 'exec', this.backend.fabric, 'ssh', '-i', this.backend.keyFile, '-o', `UserKnownHostsFile=${knownHosts}`,
      '-o', 'StrictHostKeyChecking=yes', '-o', 'GlobalKnownHostsFile=/dev/null', `root@${vm.mgmt}`];
  }

  /**
   * Dropbear on a busy emulated guest now and then closes a new channel before it starts the command ("Unable to
   * exec"): nothing ran, so the command is sent again.
   */
  async exec(argv: readonly string[], opts?: Parameters<Host['exec']>[1]) {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.current().exec(argv, opts);
      } catch (err) {
        if (attempt >= 3 || !/^Unable to exec$/.test((err as Error).message) || opts?.signal?.aborted) throw err;
        await sleep(200);
      }
    }
  }

  upload(localPath: string, remotePath: string, opts?: TransferOptions) {
    return this.current().upload(localPath, remotePath, opts);
  }

  download(remotePath: string, localPath: string, opts?: TransferOptions) {
    return this.current().download(remotePath, localPath, opts);
  }

  shellArgv(): string[] {
    return this.current().shellArgv();
  }

  async status(): Promise<HostStatus> {
    const vm = this.backend.vmRecord(this.role);
    if (!vm) return { state: 'absent', addresses: [] };
    return { ...(await this.vmStatus(vm)), consoleLog: vm.consoleLog };
  }

  private async vmStatus(vm: VmRecord): Promise<HostStatus> {
    const how = vm.accel === 'tcg' ? 'emulated (TCG)' : 'KVM';
    const log = readText(vm.consoleLog);
    const boot = consoleState(log);
    if (qemuPid(vm.pidFile) === undefined) {
      const why = boot === 'panicked' ? 'panicked' : 'exited';
      return { state: 'stopped', addresses: [], detail: `VM ${why} · ${how} · console ${vm.consoleLog}:\n${consoleTail(vm.consoleLog, 15)}` };
    }
    if (boot === 'panicked') return { state: 'unreachable', addresses: [], detail: `VM panicked · ${how} · console ${vm.consoleLog}:\n${consoleTail(vm.consoleLog, 15)}` };
    if (boot === 'booting') return { state: 'unreachable', addresses: [], detail: `VM booting · ${how} · console ${vm.consoleLog}` };
    const s = await this.current().status();
    return { ...s, detail: `VM ${s.state === 'running' ? 'ready' : 'not answering'} · ${how} · console ${vm.consoleLog}${s.state === 'running' ? '' : `: ${s.detail ?? ''}`}` };
  }

  /** Waits until SSH answers; fails early, with the console's tail, when QEMU exits or the guest panics. */
  async waitReady(opts: WorkOptions, timeoutMs: number): Promise<void> {
    const vm = this.backend.vmRecord(this.role)!;
    const deadline = Date.now() + timeoutMs;
    const fail = (why: string) => new Error(`The ${this.role} VM ${why}. Its console (${vm.consoleLog}) says:\n${consoleTail(vm.consoleLog)}`);
    let lastError = '';
    for (;;) {
      opts.signal?.throwIfAborted();
      const state = consoleState(readText(vm.consoleLog));
      if (state === 'panicked') throw fail('panicked while booting');
      if (qemuPid(vm.pidFile) === undefined && fs.existsSync(vm.pidFile)) throw fail('stopped while booting (QEMU exited)');
      if (state === 'network-up') {
        const r = await this.current().exec(['true'], { signal: opts.signal, timeoutMs: 15_000 }).catch((err: Error) => { lastError = err.message; return undefined; });
        if (r?.code === 0) return;
      }
      if (Date.now() > deadline) throw fail(`did not answer over SSH within ${timeoutMs / 1000} s${lastError ? ` (${lastError})` : ''}`);
      await sleep(200);
    }
  }

  /** Graceful shutdown (poweroff in the guest), then QEMU is ended if it has not exited within a few seconds. */
  async powerOff(pid: number): Promise<void> {
    if (consoleState(readText(this.backend.consoleLog(this.role))) === 'network-up') {
      await this.current().exec(['poweroff'], { timeoutMs: 5000 }).catch(() => undefined);
      for (let waited = 0; processAlive(pid) && waited < 5000; waited += 100) await sleep(100);
    }
    await killVm(pid);
  }

  async close(): Promise<void> {
    const s = this.ssh;
    this.ssh = undefined;
    await s?.host.conn.dispose();
  }
}
