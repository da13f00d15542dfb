import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { DEFAULT_EXEC_TIMEOUT_MS, type ExecResult } from '../../extension/core/hosts/host';
import { NetnsHost } from '../../extension/core/hosts/netns-host';
import { SshHost } from '../../extension/core/hosts/ssh-host';
import { SshConnection } from '../../extension/core/hosts/ssh/connection';
import { PrivilegedRunner } from '../../extension/core/backends/netns-runner';
import { SshdLab } from '../helpers/sshd';

/**
 * The backstop: an exec whose caller gives no timeout still ends, as timed out, after DEFAULT_EXEC_TIMEOUT_MS, both
 * for a command that never exits and for a host that stops answering (its sshd frozen with SIGSTOP, keep-alive off
 * so nothing but the bound can end the call).
 */
describe('every exec on a host is bounded when the caller gives no timeout', () => {
  const id = randomBytes(2).toString('hex');
  const lab = new SshdLab(`vxbound${id}`);
  let conn: SshConnection | undefined;
  let frozen: number[] = [];

  before(async () => { await lab.start(['model']); });
  after(async () => {
    for (const pid of frozen) try { process.kill(pid, 'SIGCONT'); } catch { /* gone */ }
    await conn?.dispose();
    await lab.cleanup();
  });

  test('a hung command on a namespace host and any command on a frozen SSH host end at the default bound', { timeout: DEFAULT_EXEC_TIMEOUT_MS + 60_000 }, async () => {
    const netns = new NetnsHost('model', lab.ns('model'), new PrivilegedRunner());
    conn = new SshConnection({
      host: 'model.lab', username: 'root', identityFile: lab.userKey, sock: lab.sock('model'),
      hostKeys: { kind: 'pinned', keys: [lab.hostKeyLine('model')] },
    }, { connectTimeoutMs: 15_000, keepaliveMs: 0 });
    const ssh = new SshHost('model', 'ssh', conn, `model (ssh ${lab.name})`, []);
    assert.equal((await ssh.exec(['true'], { timeoutMs: 15_000 })).code, 0, 'the SSH host answers before it is frozen');

    frozen = lab.sessions('model');
    assert.ok(frozen.length > 0, 'the sshd process serving the connection');
    for (const pid of frozen) process.kill(pid, 'SIGSTOP');

    const marker = `vx-hung-${id}`;
    const timed = async (p: Promise<ExecResult>) => { const t = Date.now(); const r = await p; return { r, ms: Date.now() - t }; };
    const [hung, frozenHost] = await Promise.all([
      timed(netns.exec(['sh', '-c', 'sleep 3600; true', marker])),
      timed(ssh.exec(['true'])),
    ]);
    for (const [what, { r, ms }] of [['hung command', hung], ['frozen host', frozenHost]] as const) {
      assert.equal(r.timedOut, true, `${what}: reported as timed out`);
      assert.equal(r.code, null, `${what}: no exit code`);
      // Not before the bound; after it, at most the kill grace of each transport (2 s local, 5 s over SSH) and load.
      assert.ok(ms >= DEFAULT_EXEC_TIMEOUT_MS - 100 && ms < DEFAULT_EXEC_TIMEOUT_MS + 20_000, `${what}: ended after ${ms} ms`);
    }
    assert.deepEqual(lab.processes('model', marker), [], 'the hung command was killed');
    assert.deepEqual(lab.processes('model', 'sleep 3600'), [], 'with what it started');
  });
});
