// A qemu testbed whose three hosts are all VMs: up, both modes routed symmetrically, down leaving nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { checkPath } from '../../extension/core/bench/path-check';
import { run } from '../../extension/core/hosts/host';
import { testbedStatus } from '../../extension/core/testbed/status';
import { serverAddress } from '../../extension/core/testbed/testbed';
import { namespaces, tempWorkspace } from '../helpers/workspace';

const NAME = 'vmall';
const qemuOf = () => spawnSync('pgrep', ['-f', `qemu-system.*-name hs-${NAME}-`], { encoding: 'utf8' }).stdout.trim();

describe('qemu testbed with three VMs', { timeout: 1_800_000 }, () => {
  const small = { qemu: { vm: true, memoryMiB: 256 } };
  const ws = tempWorkspace(NAME, { backend: 'qemu', hosts: { client: small, model: { qemu: { memoryMiB: 256 } }, server: small } });
  before(async () => { await ws.backend().up(); });
  after(async () => {
    await ws.cleanup();
    assert.equal(qemuOf(), '', 'no QEMU process is left');
    assert.deepEqual(namespaces(`hs-${NAME}-`), [], 'no namespace is left');
  });

  test('every host is a VM with the planned addresses; model and direct mode route both directions', async () => {
    const b = ws.backend();
    const s = await testbedStatus(b);
    assert.equal(s.state, 'up');
    assert.deepEqual(s.hosts.map((h) => [h.role, h.state, h.addresses.sort(), /^6\.1\.0-\d+-amd64$/.test(h.kernel ?? ''), /^VM ready/.test(h.detail ?? '')]), [
      ['client', 'running', ['198.18.1.2/24', '198.18.3.1/24'], true, true],
      ['model', 'running', ['198.18.1.1/24', '198.18.2.1/24'], true, true],
      ['server', 'running', ['198.18.2.2/24', '198.18.3.2/24'], true, true],
    ]);
    assert.deepEqual(namespaces(`hs-${NAME}-`), [`hs-${NAME}-net`], 'only the fabric namespace: no host is a namespace');
    const ttl = async () => Number(/ttl=(\d+)/.exec(await run(b.host('client'), ['ping', '-n', '-c', '1', '-W', '5', serverAddress(b.testbed)], { timeoutMs: 30_000 }))![1]);

    assert.equal(await ttl(), 63, 'one router (the model) between client and server');
    assert.ok((await checkPath(b, 'model')).crossesModel, 'model mode: requests and replies cross the model VM');
    await b.setMode('direct');
    assert.equal(await ttl(), 64);
    assert.ok(!(await checkPath(b, 'direct')).crossesModel, 'direct mode: nothing crosses the model VM');
    await b.setMode('model');
    assert.equal(await ttl(), 63);
  });
});
