import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { backendFor } from '../../extension/core/backends/open';
import { parseTestbed } from '../../extension/core/testbed/load';

// What "Open VM Console Log" opens: the path a VM host's status names, from the state `up` recorded.
test('a VM host names its kept console log in its status, also once the VM is gone; other hosts name none', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-vxcon-'));
  try {
    const file = path.join(dir, 'hypershield.testbed.json');
    const tb = parseTestbed(JSON.stringify({ name: 'vxcon', backend: 'qemu', hosts: { server: { qemu: { vm: true } } } }), file);
    const b = backendFor(tb, dir);
    assert.equal((await b.host('model').status()).consoleLog, undefined, 'before up there is no VM and no log');

    // A VM that panicked and exited, as up records it (before it boots) and as its console left it.
    const files = path.join(dir, '.hypershield', 'state', 'vxcon');
    const log = path.join(files, 'model-console.log');
    fs.mkdirSync(files, { recursive: true });
    fs.writeFileSync(log, '[    2.1] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)\n');
    b.state.write({
      name: 'vxcon', backend: 'qemu', mode: 'model', phase: 'up', createdAt: new Date().toISOString(),
      objects: [{ kind: 'vm', name: 'model', pidFile: path.join(files, 'model.pid'), consoleLog: log, hostKey: 'ssh-ed25519 AAAA', accel: 'tcg', mgmt: '198.19.255.11' }],
    });
    const model = await b.host('model').status();
    assert.equal(model.state, 'stopped');
    assert.equal(model.consoleLog, log);
    assert.match(model.detail ?? '', /VM panicked/);
    assert.equal((await b.host('server').status()).consoleLog, undefined, 'a VM role whose VM was never started has none');
    assert.equal((await b.host('client').status()).consoleLog, undefined, 'a namespace host has none');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
