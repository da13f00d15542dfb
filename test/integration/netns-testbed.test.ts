import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { namespaces, tempWorkspace } from '../helpers/workspace';
import { checkPath, assertPath } from '../../extension/core/bench/path-check';
import { serverAddress } from '../../extension/core/testbed/testbed';
import { testbedStatus } from '../../extension/core/testbed/status';

const ns = (n: string, ...argv: string[]) => execFileSync('ip', ['netns', 'exec', n, ...argv], { encoding: 'utf8' });
const ttlTo = (target: string) => Number(/ttl=(\d+)/.exec(ns('hs-tnet-client', 'ping', '-n', '-c', '1', '-W', '1', target))![1]);

describe('namespace testbed', () => {
  const ws = tempWorkspace('tnet');
  before(async () => { await ws.backend().up(); });
  after(() => ws.cleanup());

  test('three hosts with the planned addresses, and no default route anywhere', async () => {
    const s = await testbedStatus(ws.backend());
    assert.equal(s.state, 'up');
    assert.equal(s.mode, 'model');
    assert.deepEqual(s.hosts.map((h) => [h.role, h.state, h.addresses.sort()]), [
      ['client', 'running', ['198.18.1.2/24', '198.18.3.1/24']],
      ['model', 'running', ['198.18.1.1/24', '198.18.2.1/24']],
      ['server', 'running', ['198.18.2.2/24', '198.18.3.2/24']],
    ]);
    for (const role of ['client', 'model', 'server']) {
      assert.equal(ns(`hs-tnet-${role}`, 'ip', 'route', 'show', 'default'), '');
      assert.equal(ns(`hs-tnet-${role}`, 'ip', '-6', 'addr', 'show'), '', 'IPv4 only: no IPv6 chatter on the measured links');
    }
  });

  test('model mode crosses the model host both ways; direct mode does not; switching keeps the hosts', async () => {
    const b = ws.backend();
    const target = serverAddress(b.testbed);
    assert.equal(ttlTo(target), 63);
    const model = await checkPath(b, 'model');
    assert.ok(model.crossesModel, `requests and replies cross the model (${model.modelPackets} packets)`);
    const inode = execFileSync('stat', ['-c', '%i', '/run/netns/hs-tnet-model'], { encoding: 'utf8' });
    await b.setMode('direct');
    assert.equal(ttlTo(target), 64);
    const direct = await checkPath(b, 'direct');
    assert.ok(direct.modelPackets < direct.probes, `direct traffic skips the model (${direct.modelPackets} packets)`);
    assertPath(direct);
    // A route that disagrees with the mode is refused before anything is recorded.
    assert.throws(() => assertPath({ ...direct, mode: 'model' }), /does not cross the model host in model mode/);
    assert.equal(execFileSync('stat', ['-c', '%i', '/run/netns/hs-tnet-model'], { encoding: 'utf8' }), inode, 'mode switch did not recreate hosts');
    await b.setMode('model');
    assert.equal(b.state.read()!.mode, 'model');
  });

  test('up twice is safe', async () => {
    await ws.backend().up();
    assert.deepEqual(namespaces('hs-tnet-').sort(), ['hs-tnet-client', 'hs-tnet-model', 'hs-tnet-server']);
  });

  test('a half-created testbed (crash during up) is rebuilt by up and removed by down', async () => {
    const b = ws.backend();
    b.state.update((s) => { s.phase = 'partial'; });
    await b.up();
    assert.equal(b.state.read()!.phase, 'up');
    await b.down();
    assert.deepEqual(namespaces('hs-tnet-'), []);
    assert.equal(b.state.read(), undefined);
    await b.down();
  });
});
