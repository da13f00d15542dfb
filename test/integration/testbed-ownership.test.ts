// Two workspaces on one machine, a deploy killed half way, and a kernel module on a shared kernel.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openTestbed } from '../../extension/core/backends/open';
import { deployModel } from '../../extension/core/model/deploy/deploy';
import { scaffoldModel } from '../../extension/core/model/scaffold';
import { TestbedOwnedError } from '../../extension/core/testbed/ownership';
import { testbedStatus, type TestbedStatus } from '../../extension/core/testbed/status';
import { CLI, namespaces, tempWorkspace } from '../helpers/workspace';

/** A workspace whose testbed has exactly this name (two of them share it). */
function workspaceNamed(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `hs-own-${name}-`));
  fs.writeFileSync(path.join(dir, 'hypershield.testbed.json'), JSON.stringify({ name, backend: 'netns' }));
  return dir;
}

const cli = (ws: string, ...argv: string[]) => spawnSync(CLI[0], [CLI[1], '-w', ws, ...argv], { encoding: 'utf8' });

describe('testbed objects belong to the workspace that made them', () => {
  const a = workspaceNamed('town');
  const b = workspaceNamed('town');
  after(async () => {
    for (const ws of [b, a]) await openTestbed(ws).down().catch(() => undefined);
    for (const ws of [a, b]) fs.rmSync(ws, { recursive: true, force: true });
    assert.deepEqual(namespaces('hs-town-'), []);
  });

  test('a second workspace with the same testbed name can neither adopt, switch nor remove the first one\'s hosts', async () => {
    await openTestbed(a).up();
    const inodes = () => namespaces('hs-town-').sort().map((n) => fs.statSync(`/run/netns/${n}`).ino);
    const before = inodes();
    assert.equal(before.length, 3);

    const seenFromB = await testbedStatus(openTestbed(b));
    assert.equal(seenFromB.state, 'down');
    assert.equal(seenFromB.owner?.workspace, fs.realpathSync(a));
    assert.match(cli(b, 'status').stdout, new RegExp(`belong to the workspace ${fs.realpathSync(a)}`));

    await assert.rejects(openTestbed(b).up(), (err: Error) => err instanceof TestbedOwnedError && err.message.includes(fs.realpathSync(a)) && err.message.includes('"name"'));
    assert.equal(openTestbed(b).state.read(), undefined, 'the refused up recorded nothing');
    await assert.rejects(openTestbed(b).setMode('direct'), TestbedOwnedError);
    await openTestbed(b).down();
    assert.deepEqual(inodes(), before, 'B\'s down left A\'s namespaces alone');
    assert.equal((await testbedStatus(openTestbed(a))).state, 'up');

    await openTestbed(a).down();
    await openTestbed(b).up();
    assert.equal((await testbedStatus(openTestbed(b))).state, 'up', 'once A is down, the name is free for B');
    assert.equal((await testbedStatus(openTestbed(a))).owner?.workspace, fs.realpathSync(b));
  });

  test('namespaces that carry the testbed\'s names but belong to nobody are refused, not adopted', async () => {
    const c = workspaceNamed('tstray');
    try {
      execFileSync('ip', ['netns', 'add', 'hs-tstray-model']);
      await assert.rejects(openTestbed(c).up(), /hs-tstray-model already exists on this machine but was not created by testbed tstray/);
      await openTestbed(c).down();
      assert.deepEqual(namespaces('hs-tstray-'), ['hs-tstray-model'], 'down did not remove what it did not create');
    } finally {
      spawnSync('ip', ['netns', 'del', 'hs-tstray-model']);
      fs.rmSync(c, { recursive: true, force: true });
    }
  });
});

describe('deploys on a namespace testbed', () => {
  const ws = tempWorkspace('tintr');
  after(() => ws.cleanup());

  test('a kernel module is refused on a model host that shares this machine\'s kernel', async () => {
    await ws.backend().up();
    const dir = scaffoldModel(path.join(ws.dir, 'model'), 'all').dir;
    await assert.rejects(deployModel(ws.backend(), dir, 'kernel'), /shares this machine's kernel.*--allow-host-kernel/s);
  });

  test('a deploy killed half way shows as interrupted until undeploy removes what it made', async () => {
    const dir = path.join(ws.dir, 'model');
    const child = spawn(CLI[0], [CLI[1], '-w', ws.dir, 'deploy', dir, '--placement', 'user', '--watchdog', '60'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    await new Promise<void>((resolve, reject) => {
      let err = '';
      child.stderr.on('data', (d) => { err += d; if (err.includes('Starting user_space_model')) resolve(); });
      child.on('close', () => reject(new Error(`deploy ended before it could be killed:\n${err}`)));
    });
    process.kill(-child.pid!, 'SIGKILL');
    await new Promise((r) => child.on('close', r));
    let s: TestbedStatus | undefined;
    for (let i = 0; i < 50 && !(s = await testbedStatus(ws.backend())).interruptedDeploy; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(s!.deployed, undefined);
    assert.equal(s!.interruptedDeploy?.placement, 'user');
    assert.match(cli(ws.dir, 'status').stdout, /INTERRUPTED deploy of the user model/);
    const undeploy = cli(ws.dir, 'undeploy');
    assert.equal(undeploy.status, 0, undeploy.stderr);
    assert.equal((await testbedStatus(ws.backend())).interruptedDeploy, undefined);
    const rules = execFileSync('ip', ['netns', 'exec', 'hs-tintr-model', 'iptables', '-w', '-S', 'FORWARD'], { encoding: 'utf8' });
    assert.doesNotMatch(rules, /NFQUEUE/);
  });
});
