import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { NamespaceRunner } from '../backends/netns-runner';
import { execLocal } from '../util/local-process';
import { bounded, type ExecOptions, type ExecResult, type Host, type HostStatus, type Role } from './host';

/** A host that is a network namespace on this machine; it shares this machine's files and kernel. */
export class NetnsHost implements Host {
  readonly kind = 'netns' as const;
  readonly label: string;

  /** runner says where the namespace lives: this machine's list (root) or the testbed's user namespace. */
  constructor(readonly role: Role, readonly namespace: string, private readonly runner: NamespaceRunner) {
    this.label = `${role} (netns ${namespace})`;
  }

  async exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    return execLocal(this.runner.wrap(['ip', 'netns', 'exec', this.namespace, ...argv]), bounded(opts));
  }

  async upload(localPath: string, remotePath: string): Promise<void> {
    if (path.resolve(localPath) === path.resolve(remotePath)) return;
    await fs.mkdir(path.dirname(remotePath), { recursive: true });
    await fs.cp(localPath, remotePath, { recursive: true, force: true });
  }

  async download(remotePath: string, localPath: string): Promise<void> {
    await this.upload(remotePath, localPath);
  }

  shellArgv(): string[] {
    return this.runner.wrap(['ip', 'netns', 'exec', this.namespace, 'bash', '-i']);
  }

  async status(): Promise<HostStatus> {
    let listArgv: string[];
    try {
      listArgv = this.runner.wrap(['ip', '-j', 'netns', 'list']);
    } catch {
      return { state: 'absent', addresses: [] }; // the user namespace that held it is gone, and the namespace with it
    }
    const list = await execLocal(listArgv, { timeoutMs: 10_000 });
    const names = list.code === 0 && list.stdout.trim() ? (JSON.parse(list.stdout) as Array<{ name: string }>).map((n) => n.name) : [];
    if (!names.includes(this.namespace)) return { state: 'absent', addresses: [] };
    const addr = await execLocal(this.runner.wrap(['ip', '-n', this.namespace, '-j', '-4', 'addr', 'show']), { timeoutMs: 10_000 });
    const ifaces = addr.code === 0 ? (JSON.parse(addr.stdout) as Array<{ ifname: string; addr_info: Array<{ local: string; prefixlen: number }> }>) : [];
    const addresses = ifaces.filter((i) => i.ifname !== 'lo').flatMap((i) => i.addr_info.map((a) => `${a.local}/${a.prefixlen}`));
    const uname = await execLocal(['uname', '-r']);
    // The tree and status say where it lives: an ordinary user's testbed is in a user namespace of their own.
    const where = this.runner.kind === 'user-namespace' ? `, in a user namespace of ${os.userInfo().username}` : '';
    return { state: 'running', addresses, kernel: uname.stdout.trim(), detail: `netns ${this.namespace}${where}` };
  }
}
