import { bounded, type BackendKind, type ExecOptions, type ExecResult, type Host, type HostStatus, type Role, type TransferOptions } from './host';
import type { SshConnection } from './ssh/connection';

// `ip -j -4 addr show` prints one object per interface, e.g.
// [{"ifindex":1,"ifname":"lo",...,"addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,...}]},
//  {"ifindex":2,"ifname":"to-model",...,"addr_info":[{"family":"inet","local":"198.18.1.2","prefixlen":24,...}]}]
interface IpAddr { ifname: string; addr_info: Array<{ local: string; prefixlen: number }> }

/** What `status` reads on the host in one round trip: the kernel release, a separator line, then the addresses. */
const STATUS_SCRIPT = 'uname -r; echo; ip -j -4 addr show';

/** A host reached over SSH (an existing machine, or a VM); it has its own kernel and file system. */
export class SshHost implements Host {
  /**
   * @param shellArgv the command line of an interactive terminal on the host (the system ssh client, with the
   *   verified host key), for `Host.shellArgv()`
   * @param testbedInterfaces when given, `status` lists only these interfaces' addresses (not the management one)
   */
  constructor(
    readonly role: Role,
    readonly kind: BackendKind,
    readonly conn: SshConnection,
    readonly label: string,
    private readonly shell: string[],
    private readonly testbedInterfaces?: readonly string[],
  ) {}

  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    return this.conn.exec(argv, bounded(opts));
  }

  upload(localPath: string, remotePath: string, opts?: TransferOptions): Promise<void> {
    return this.conn.upload(localPath, remotePath, opts);
  }

  download(remotePath: string, localPath: string, opts?: TransferOptions): Promise<void> {
    return this.conn.download(remotePath, localPath, opts);
  }

  shellArgv(): string[] {
    return [...this.shell];
  }

  async status(): Promise<HostStatus> {
    let r: ExecResult;
    try {
      r = await this.conn.exec(['sh', '-c', STATUS_SCRIPT], { timeoutMs: 15_000 });
    } catch (err) {
      return { state: 'unreachable', addresses: [], detail: (err as Error).message };
    }
    if (r.code !== 0) return { state: 'unreachable', addresses: [], detail: r.timedOut ? `${this.label} did not answer within 15 s` : r.stderr.trim() };
    const [kernel, json] = r.stdout.split('\n\n');
    let ifaces: IpAddr[] = [];
    try { ifaces = JSON.parse(json) as IpAddr[]; } catch { /* an `ip` without -j: addresses unknown */ }
    const shown = ifaces.filter((i) => i.ifname !== 'lo' && (!this.testbedInterfaces || this.testbedInterfaces.includes(i.ifname)));
    return {
      state: 'running',
      addresses: shown.flatMap((i) => i.addr_info.map((a) => `${a.local}/${a.prefixlen}`)),
      kernel: kernel.trim(),
      detail: `ssh ${this.conn.label}`,
    };
  }
}
