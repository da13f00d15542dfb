import * as fs from 'node:fs';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import type Docker from 'dockerode';
import { type Host, type Role, ROLES } from '../../hosts/host';
import { execLocal } from '../../util/local-process';
import { addressPlan, type Mode, type Testbed } from '../../testbed/testbed';
import type { StateStore } from '../../testbed/state';
import { routePlan, routeReplaceArgs, routingMessage } from '../../testbed/routes';
import type { Backend, BackendCapabilities, BackendChange, ModelInterfaces, WorkOptions } from '../backend';
import { DockerHost } from './docker-host';
import { describeEngine, engineClient, engineDeadline, engineTarget, pingEngine, type EngineTarget } from './engine';
import { EngineEvents } from './events';
import { builtImages, ensureImage, readRecipe, ROLE_RECIPE } from './images';
import { LABELS, ownedBy } from './labels';

type Net = 'client' | 'server' | 'direct';
const NETS: readonly Net[] = ['client', 'server', 'direct'];

/** One container's place on one network: its address and the name its interface gets inside the container. */
interface Attachment { net: Net; address: string; ifname: string }

/**
 * Capabilities beyond Docker's defaults. Every container configures its own links and routes (NET_ADMIN). The model
 * container also loads eBPF programs: on Docker 20.10 (no CAP_BPF), and for the id lookups bpftool makes
 * (BPF_*_GET_FD_BY_ID) and tc's mount of a private bpffs, that takes SYS_ADMIN. Never --privileged: no devices,
 * the default seccomp profile stays.
 */
const CAPS: Readonly<Record<Role, string[]>> = { client: ['NET_ADMIN'], server: ['NET_ADMIN'], model: ['NET_ADMIN', 'SYS_ADMIN'] };

const CONFIG_TIMEOUT_MS = 30_000;

/** What the containers' first process prints once their links are configured. */
const READY = 'hypershield: links configured';

/**
 * The containers' first process: renames the interface holding each ADDRESS to NAME (arguments: ADDRESS NAME
 * pairs, then --), removes the default route so nothing leaves the testbed, runs `ip route replace` with the
 * remaining arguments, if any, says READY and sleeps. Docker names interfaces eth0, eth1… in an order of its own;
 * the testbed's names say where a link goes, as on every backend. Run as the first process (every network is
 * attached before it starts), it costs no exec round trip.
 */
const CONFIGURE_SCRIPT = `set -e
while [ "$1" != "--" ]; do
  dev=$(ip -o -4 addr show to "$1" | { read -r _ d _; echo "\${d%%@*}"; })
  [ -n "$dev" ] || { echo "no interface holds $1" >&2; exit 1; }
  if [ "$dev" != "$2" ]; then ip link set dev "$dev" down; ip link set dev "$dev" name "$2"; ip link set dev "$2" up; fi
  shift 2
done
shift
ip route del default 2>/dev/null || true
if [ $# -gt 0 ]; then ip route replace "$@"; fi
echo "${READY}"
exec sleep infinity`;

/**
 * Client, model and server as containers of a Docker engine, on three bridge networks:
 *   client net: client:to-model <-> model:to-client
 *   server net: model:to-server <-> server:to-model
 *   direct net: client:to-server <-> server:to-client (direct mode)
 * the same links, addresses and interface names as the namespace testbed. Every network and container carries the
 * testbed's and its owner's labels: `down` finds exactly those, whatever happened to the CLI or the state file.
 */
export class DockerBackend implements Backend {
  readonly modelInterfaces: ModelInterfaces = { client: 'to-client', server: 'to-server' };
  /** Containers share this machine's kernel (when the engine is local) but have their own files. */
  readonly capabilities: BackendCapabilities = { ownKernel: false, moduleLoading: false, emulated: false, ownFileSystem: true, runsLocalBuilds: false, interactiveShell: true, createsHosts: true };
  private readonly target: EngineTarget;
  private readonly owner: string;
  private readonly hosts: Record<Role, DockerHost>;
  private readonly events: EngineEvents;
  private client: Docker | undefined;

  constructor(readonly testbed: Testbed, readonly state: StateStore, workspace: string) {
    this.target = engineTarget(testbed.docker?.engine);
    this.owner = path.resolve(workspace);
    const engine = () => this.engine();
    this.hosts = Object.fromEntries(ROLES.map((r) => [r, new DockerHost(r, this.containerName(r), engine, this.target)])) as Record<Role, DockerHost>;
    this.events = new EngineEvents(engine, ownedBy(testbed.name, this.owner));
  }

  /** The engine client, made on first use and kept (it opens a connection per request). */
  private engine(): Docker {
    return (this.client ??= engineClient(this.target));
  }

  containerName(role: Role): string {
    return `hs-${this.testbed.name}-${role}`;
  }

  networkName(net: Net): string {
    return `hs-${this.testbed.name}-${net}`;
  }

  host(role: Role): Host {
    return this.hosts[role];
  }

  onDidChange(listener: (change: BackendChange) => void): () => void {
    return this.events.subscribe(listener);
  }

  async dispose(): Promise<void> {
    this.events.close();
  }

  private labels(extra: Record<string, string> = {}): Record<string, string> {
    return { [LABELS.testbed]: this.testbed.name, [LABELS.owner]: this.owner, ...extra };
  }

  private attachments(role: Role): Attachment[] {
    const a = addressPlan(this.testbed);
    switch (role) {
      case 'client': return [{ net: 'client', address: a.clientOnClientNet, ifname: 'to-model' }, { net: 'direct', address: a.clientOnDirectNet, ifname: 'to-server' }];
      case 'model': return [{ net: 'client', address: a.modelOnClientNet, ifname: 'to-client' }, { net: 'server', address: a.modelOnServerNet, ifname: 'to-server' }];
      case 'server': return [{ net: 'server', address: a.serverOnServerNet, ifname: 'to-model' }, { net: 'direct', address: a.serverOnDirectNet, ifname: 'to-client' }];
    }
  }

  /** The `ip route replace` arguments that send a role's traffic for the other side over mode's path (none on the model). */
  private route(role: Role, mode: Mode): string[] {
    const step = routePlan(this.testbed, mode).find((s) => s.role === role);
    return step ? routeReplaceArgs(step) : [];
  }

  /** The image each role runs: the testbed file's, else the one built from the role's recipe. */
  private images(): Record<Role, { image: string; recipe?: string }> {
    return Object.fromEntries(ROLES.map((r) => {
      const configured = this.testbed.hosts[r]?.image;
      return [r, configured ? { image: configured } : { image: readRecipe(ROLE_RECIPE[r]).image, recipe: ROLE_RECIPE[r] }];
    })) as Record<Role, { image: string; recipe?: string }>;
  }

  async preflight(): Promise<string[]> {
    const problems: string[] = [];
    try {
      await pingEngine(this.engine(), this.target);
    } catch (err) {
      return [(err as Error).message];
    }
    const tags = new Set((await this.engine().listImages({ abortSignal: engineDeadline() })).flatMap((i) => i.RepoTags ?? []));
    const has = (ref: string) => tags.has(ref) || tags.has(`${ref}:latest`);
    const missing = [...new Set(Object.values(this.images()).filter((i) => i.recipe && !has(i.image)).map((i) => i.image))];
    if (missing.length && !(await execLocal(['mmdebstrap', '--version']).then((r) => r.code === 0, () => false))) {
      problems.push(`The images ${missing.join(', ')} must be built, which takes mmdebstrap: apt-get install mmdebstrap`);
    }
    for (const [r, spec] of Object.entries(this.testbed.hosts)) {
      if (spec.image && !has(spec.image)) {
        problems.push(`The engine at ${describeEngine(this.target)} has no image ${spec.image} (hosts.${r}.image in ${this.testbed.source}): build or load it there first.`);
      }
    }
    return problems;
  }

  /** Every container and network of the engine, and how many of them are this testbed's (by label). */
  private async engineObjects(): Promise<{ containers: Docker.ContainerInfo[]; networks: Docker.NetworkInspectInfo[]; mine: number }> {
    const [containers, networks] = await Promise.all([this.engine().listContainers({ all: true, abortSignal: engineDeadline() }), this.engine().listNetworks({ abortSignal: engineDeadline() })]);
    const ours = (labels?: Record<string, string>) => labels?.[LABELS.testbed] === this.testbed.name && labels?.[LABELS.owner] === this.owner;
    return { containers, networks, mine: containers.filter((c) => ours(c.Labels)).length + networks.filter((n) => ours(n.Labels)).length };
  }

  private async ownedContainers(): Promise<Docker.ContainerInfo[]> {
    return this.engine().listContainers({ all: true, filters: { label: ownedBy(this.testbed.name, this.owner) }, abortSignal: engineDeadline() });
  }

  private async ownedNetworks(): Promise<Docker.NetworkInspectInfo[]> {
    return this.engine().listNetworks({ filters: { label: ownedBy(this.testbed.name, this.owner) }, abortSignal: engineDeadline() });
  }

  async up(opts: WorkOptions = {}): Promise<void> {
    const problems = await this.preflight();
    if (problems.length) throw new Error(problems.join('\n'));
    const existing = this.state.read();
    let objects = await this.engineObjects();
    const running = new Set(objects.containers.filter((c) => c.State === 'running' && c.Labels?.[LABELS.owner] === this.owner).flatMap((c) => c.Names.map((n) => n.replace(/^\//, ''))));
    if (existing?.phase === 'up' && ROLES.every((r) => running.has(this.containerName(r)))) {
      opts.progress?.report(`Testbed ${this.testbed.name} is already up`);
      return;
    }
    if (existing || objects.mine) {
      opts.progress?.report('Removing a half-created or broken testbed first');
      await this.down(opts);
      objects = await this.engineObjects();
    }
    if (await this.removeOrphans(objects, opts)) objects = await this.engineObjects();
    this.refuseForeign(objects.containers, objects.networks);

    const images = this.images();
    for (const recipe of [...new Set(Object.values(images).map((i) => i.recipe).filter((r): r is string => !!r))]) {
      await ensureImage(this.engine(), readRecipe(recipe), opts);
      opts.signal?.throwIfAborted();
    }

    this.state.write({ name: this.testbed.name, backend: 'docker', mode: this.testbed.mode, phase: 'partial', createdAt: new Date().toISOString(), objects: [] });
    opts.progress?.report('Creating networks');
    for (const net of NETS) this.state.record({ kind: 'docker-network', name: this.networkName(net) });
    await Promise.all(NETS.map((net) => this.createNetwork(net)));
    opts.signal?.throwIfAborted();

    opts.progress?.report('Creating containers');
    for (const role of ROLES) this.state.record({ kind: 'docker-container', name: this.containerName(role) });
    await Promise.all(ROLES.map((role) => this.createContainer(role, images[role].image)));
    opts.signal?.throwIfAborted();

    opts.progress?.report(`Configuring links, routing traffic ${this.testbed.mode === 'model' ? 'through the model host' : 'directly to the server'}`);
    await Promise.all(ROLES.map((role) => this.configured(role, opts.signal)));
    this.state.update((s) => { s.phase = 'up'; s.mode = this.testbed.mode; });
  }

  /**
   * Objects of this testbed whose owner workspace folder is gone from this machine (a workspace deleted while its
   * testbed was up) belong to nobody: like an owner's claim, they no longer stand, and are removed. Only for an
   * engine on this machine, where the owner labels are this machine's paths.
   */
  private async removeOrphans(objects: { containers: Docker.ContainerInfo[]; networks: Docker.NetworkInspectInfo[] }, opts: WorkOptions): Promise<boolean> {
    if (this.target.kind !== 'unix') return false;
    const orphan = (labels?: Record<string, string>) => labels?.[LABELS.testbed] === this.testbed.name && !!labels[LABELS.owner] && !fs.existsSync(labels[LABELS.owner]);
    const containers = objects.containers.filter((c) => orphan(c.Labels));
    const networks = objects.networks.filter((n) => orphan(n.Labels));
    for (const c of containers) {
      opts.progress?.report(`Removing container ${c.Names[0].replace(/^\//, '')} of the workspace ${c.Labels[LABELS.owner]}, which no longer exists`);
      await this.engine().getContainer(c.Id).remove({ force: true, v: true, abortSignal: engineDeadline() });
    }
    for (const n of networks) {
      opts.progress?.report(`Removing network ${n.Name} of the workspace ${n.Labels?.[LABELS.owner]}, which no longer exists`);
      await this.engine().getNetwork(n.Id).remove({ abortSignal: engineDeadline() });
    }
    return containers.length + networks.length > 0;
  }

  /** Containers or networks with this testbed's names that are not this workspace's testbed's are not ours to replace. */
  private refuseForeign(containers: Docker.ContainerInfo[], networks: Docker.NetworkInspectInfo[]): void {
    const names = new Set([...ROLES.map((r) => this.containerName(r)), ...NETS.map((n) => this.networkName(n))]);
    const foreign = [
      ...containers.filter((c) => c.Names.some((n) => names.has(n.replace(/^\//, ''))) && c.Labels?.[LABELS.owner] !== this.owner).map((c) => `container ${c.Names[0].replace(/^\//, '')}`),
      ...networks.filter((n) => names.has(n.Name) && n.Labels?.[LABELS.owner] !== this.owner).map((n) => `network ${n.Name}`),
    ];
    if (foreign.length) {
      throw new Error(`The Docker engine at ${describeEngine(this.target)} has ${foreign.join(', ')}, not made by testbed ${this.testbed.name} of this workspace. ` +
        'Give this testbed another name in hypershield.testbed.json, or remove them (`docker rm -f` / `docker network rm`) if nothing uses them.');
    }
    // Docker refuses a subnet that overlaps another network's: say which network and what to change.
    for (const net of NETS) {
      const subnet = this.testbed.subnets[net];
      const clash = networks.find((n) => n.IPAM?.Config?.some((c) => c.Subnet === subnet));
      if (clash) {
        throw new Error(`The ${net} subnet ${subnet} is already used by the Docker network ${clash.Name}. Choose other subnets ("subnets" in ${this.testbed.source}) ` +
          `or remove that network if nothing uses it.`);
      }
    }
  }

  private async createNetwork(net: Net): Promise<void> {
    const subnet = this.testbed.subnets[net];
    await this.engine().createNetwork({
      Name: this.networkName(net),
      Driver: 'bridge',
      CheckDuplicate: true,
      // Not Internal: the engine's isolation rules would drop the routed traffic. The gateway address is only
      // reserved (.254): the bridge gets no address, so this machine is not on the testbed's links, and nothing is
      // masqueraded; the containers lose their default routes, so nothing leaves.
      IPAM: { Driver: 'default', Config: [{ Subnet: subnet, Gateway: subnet.replace(/\.0\/24$/, '.254') }] },
      Options: { 'com.docker.network.bridge.inhibit_ipv4': 'true', 'com.docker.network.bridge.enable_ip_masquerade': 'false' },
      Labels: this.labels({ [LABELS.role]: `${net}-net` }),
      abortSignal: engineDeadline(),
    });
  }

  private async createContainer(role: Role, image: string): Promise<void> {
    const spec = this.testbed.hosts[role] ?? {};
    const [first, ...rest] = this.attachments(role);
    const container = await this.engine().createContainer({
      name: this.containerName(role),
      Hostname: role,
      Image: image,
      Cmd: ['sh', '-c', CONFIGURE_SCRIPT, 'hs-configure', ...this.attachments(role).flatMap((a) => [a.address, a.ifname]), '--', ...this.route(role, this.testbed.mode)],
      Labels: this.labels({ [LABELS.role]: role }),
      HostConfig: {
        // docker-init reaps the processes that benchmarks and models leave behind.
        Init: true,
        CapAdd: CAPS[role],
        NetworkMode: this.networkName(first.net),
        // IPv4 only, like the namespace testbed: no IPv6 chatter on the measured links. Strict reverse-path
        // filtering would drop direct-mode replies that arrive on the other link.
        Sysctls: {
          'net.ipv4.ip_forward': role === 'model' ? '1' : '0',
          'net.ipv4.conf.all.rp_filter': '0',
          'net.ipv4.conf.default.rp_filter': '0',
          'net.ipv6.conf.all.disable_ipv6': '1',
          'net.ipv6.conf.default.disable_ipv6': '1',
        },
        ...(spec.cpus ? { NanoCpus: spec.cpus * 1e9 } : {}),
        ...(spec.memoryMiB ? { Memory: spec.memoryMiB * 2 ** 20, MemorySwap: spec.memoryMiB * 2 ** 20 } : {}),
        ...(spec.cpuset ? { CpusetCpus: spec.cpuset } : {}),
      },
      NetworkingConfig: { EndpointsConfig: { [this.networkName(first.net)]: { IPAMConfig: { IPv4Address: first.address } } } },
      abortSignal: engineDeadline(),
    });
    for (const a of rest) {
      await this.engine().getNetwork(this.networkName(a.net)).connect({ Container: container.id, EndpointConfig: { IPAMConfig: { IPv4Address: a.address } } });
    }
    await container.start({ abortSignal: engineDeadline() });
  }

  /** Waits until a container's first process has configured its links; throws with what it said when it failed. */
  private async configured(role: Role, signal?: AbortSignal): Promise<void> {
    const container = this.engine().getContainer(this.containerName(role));
    const logs = await container.logs({ follow: true, stdout: true, stderr: true, abortSignal: AbortSignal.any([AbortSignal.timeout(CONFIG_TIMEOUT_MS), ...(signal ? [signal] : [])]) });
    let out = '';
    const sink = new Writable({ write(chunk: Buffer, _enc, done) { out += chunk.toString(); done(); } });
    this.engine().modem.demuxStream(logs, sink, sink);
    const ready = await new Promise<boolean>((resolve) => {
      logs.on('data', () => { if (out.includes(READY)) resolve(true); });
      logs.once('end', () => resolve(out.includes(READY)));
      logs.once('error', () => resolve(out.includes(READY)));
    });
    (logs as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
    signal?.throwIfAborted();
    if (!ready) throw new Error(`Configuring the links of ${this.hosts[role].label} failed: ${out.trim() || 'no answer within 30 s'}`);
  }

  async setMode(mode: Mode, opts: WorkOptions = {}): Promise<void> {
    opts.progress?.report(routingMessage(mode));
    await Promise.all((['client', 'server'] as const).map(async (role) => {
      const r = await this.hosts[role].exec(['ip', 'route', 'replace', ...this.route(role, mode)], { signal: opts.signal, timeoutMs: CONFIG_TIMEOUT_MS });
      if (r.code !== 0) throw new Error(`Routing on ${this.hosts[role].label} failed: ${(r.stderr || r.stdout).trim()}`);
    }));
    this.state.update((s) => { s.mode = mode; });
  }

  /**
   * Removes the containers and networks that carry this testbed's and this workspace's labels, and any the state
   * file records (made before a crash could label them). Images stay: building them is what takes time.
   */
  async down(opts: WorkOptions = {}): Promise<void> {
    const st = this.state.read();
    const recorded = (kind: string) => st?.objects.filter((o) => o.kind === kind).map((o) => o.name) ?? [];
    try {
      await pingEngine(this.engine(), this.target);
    } catch (err) {
      if (!st) return; // nothing recorded, and no engine to ask for labelled objects: nothing of ours can be up
      throw err;
    }
    const containers = new Set([...(await this.ownedContainers()).map((c) => c.Names[0].replace(/^\//, '')), ...recorded('docker-container')]);
    await Promise.all([...containers].map(async (c) => {
      opts.progress?.report(`Removing container ${c}`);
      await this.removeIfOurs(this.engine().getContainer(c), (o) => o.remove({ force: true, v: true, abortSignal: engineDeadline() }));
    }));
    const networks = new Set([...(await this.ownedNetworks()).map((n) => n.Name), ...recorded('docker-network')]);
    await Promise.all([...networks].map(async (n) => {
      opts.progress?.report(`Removing network ${n}`);
      await this.removeIfOurs(this.engine().getNetwork(n), (o) => o.remove({ abortSignal: engineDeadline() }));
    }));
    const kept = await builtImages(this.engine());
    if (kept.length) opts.progress?.report(`Images kept for the next \`up\`: ${kept.join(', ')}`);
    this.state.remove();
  }

  /** Removes an engine object when it carries our labels; one that is gone already is fine. */
  private async removeIfOurs<T extends Docker.Container | Docker.Network>(obj: T, remove: (o: T) => Promise<unknown>): Promise<void> {
    try {
      const info = (await obj.inspect({ abortSignal: engineDeadline() })) as { Config?: { Labels?: Record<string, string> }; Labels?: Record<string, string> };
      const labels = info.Config?.Labels ?? info.Labels ?? {};
      if (labels[LABELS.owner] !== this.owner || labels[LABELS.testbed] !== this.testbed.name) return;
      await remove(obj);
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return;
      throw err;
    }
  }
}
