// The workbench's side of the root helper: `sudo -n HELPER op key=value …`, never a password prompt.
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { AttachedEbpf, ModelConfig, ModelCounters, PrivilegedOps } from '../model/deploy/model-host';
import { execLocal } from '../util/local-process';
import { HELPER_PATH, requestArgv, type HelperRequest } from './protocol';

/** Why sudo would not run the helper for this user without a password, or undefined when it would. */
export async function helperUnavailable(): Promise<string | undefined> {
  const r = await execLocal(['sudo', '-n', '-l', HELPER_PATH], { timeoutMs: 10_000 }).catch((err: Error) => ({ code: 1, stdout: '', stderr: err.message }));
  if (r.code === 0) return undefined;
  const user = os.userInfo().username;
  const why = (r.stderr || r.stdout).trim().split('\n').pop() || `exit ${r.code}`;
  // A group added after this session started reaches only new logins (sudo reads the session's groups).
  if (fs.existsSync(HELPER_PATH)) {
    return `the HyperShield helper is installed, but sudo will not run it for ${user} in this session (${why}): if ${user} was just added to its group, ` +
      'log in again (and start VS Code from the new login); otherwise an administrator adds them: `sudo hypershield setup --user ' + user + '`.';
  }
  return `the HyperShield helper is not set up on this machine (sudo -n -l ${HELPER_PATH}: ${why}). ` +
    `An administrator runs \`sudo hypershield setup --user ${user}\` once; see \`hypershield doctor\`.`;
}

/** The helper's operations on one testbed, whose user namespace is held by the process holder() returns. */
export class HelperClient implements PrivilegedOps {
  constructor(private readonly testbed: string, private readonly holder: () => number) {}

  unavailable(): Promise<string | undefined> {
    return helperUnavailable();
  }

  async ebpfAttach(object: string, config: ModelConfig, signal?: AbortSignal): Promise<AttachedEbpf> {
    return (await this.call({ op: 'ebpf-attach', object, config }, signal)) as AttachedEbpf;
  }

  async ebpfCounters(signal?: AbortSignal): Promise<ModelCounters> {
    return (await this.call({ op: 'ebpf-counters' }, signal)) as ModelCounters;
  }

  private async call(req: Omit<HelperRequest, 'testbed' | 'holder'>, signal?: AbortSignal): Promise<unknown> {
    const argv = ['sudo', '-n', HELPER_PATH, ...requestArgv({ ...req, testbed: this.testbed, holder: this.holder() })];
    const r = await execLocal(argv, { signal, timeoutMs: 60_000 });
    if (r.code !== 0) {
      signal?.throwIfAborted();
      const why = r.stderr.trim() || `exit ${r.code}`;
      throw new Error(/password is required|not allowed|command not found|may not run/i.test(why)
        ? `${req.op} needs the HyperShield helper, which sudo would not run: ${why}. An administrator runs \`sudo hypershield setup --user ${os.userInfo().username}\` once.`
        : why.replace(/^hypershield helper: /, `HyperShield helper (${req.op}): `));
    }
    return JSON.parse(r.stdout);
  }
}
