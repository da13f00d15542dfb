// The user-space and eBPF templates on a VM model host (Debian's kernel, this machine's programs, under TCG here):
// built on this machine (the guest has no compiler), deployed in a few guest commands, counting iperf3 through the
// model, dropping the policy's blocked pattern, and leaving nothing after undeploy and `down`. One VM boot serves both
// placements, and a user-space model that links a library the guest lacks, which the deploy uploads beside it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Backend } from '../../extension/core/backends/backend';
import { run } from '../../extension/core/hosts/host';
import { deployModel, modelCounters, undeployModel } from '../../extension/core/model/deploy/deploy';
import type { ModelCounters } from '../../extension/core/model/deploy/model-host';
import { runDirFor } from '../../extension/core/model/deploy/run-dir';
import { scaffoldModel } from '../../extension/core/model/scaffold';
import { serverAddress } from '../../extension/core/testbed/testbed';
import { describeCalls, traceHosts } from '../helpers/host-trace';
import { namespaces, tempWorkspace } from '../helpers/workspace';

const NAME = 'vmm-models';
const RUN_DIR = runDirFor(NAME).root;

/** QEMU processes of the testbed (they are named hs-NAME-ROLE). */
const qemuOf = () => spawnSync('pgrep', ['-f', `qemu-system.*-name hs-${NAME}-`], { encoding: 'utf8' }).stdout.trim();

const LISTEN = `import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('0.0.0.0', int(sys.argv[1])))
print('listening', flush=True)
while True:
    data, _ = s.recvfrom(65535)
    print(data.decode(), flush=True)`;
const SEND = `import socket, sys
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(sys.argv[3].encode(), (sys.argv[1], int(sys.argv[2])))`;

/** Sends each payload in a UDP datagram of its own (a flow of its own) from the client to the server; returns what arrived. */
async function deliver(b: Backend, payloads: string[]): Promise<string[]> {
  const port = '5599';
  const listener = spawn('ip', ['netns', 'exec', `hs-${NAME}-server`, 'python3', '-c', LISTEN, port]);
  let out = '';
  listener.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  try {
    const deadline = Date.now() + 10_000;
    while (!out.includes('listening')) {
      assert.ok(Date.now() < deadline, 'the UDP listener started');
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const p of payloads) execFileSync('ip', ['netns', 'exec', `hs-${NAME}-client`, 'python3', '-c', SEND, serverAddress(b.testbed), port, p]);
    await new Promise((r) => setTimeout(r, 1500));
  } finally {
    listener.kill();
  }
  return out.split('\n').filter((l) => l && l !== 'listening');
}

/** The model's counters once they show a drop (the user-space model writes its stats file once a second). */
async function countersAfterDrop(b: Backend): Promise<ModelCounters> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const c = (await modelCounters(b))!;
    if (c.dropped >= 1 || Date.now() > deadline) return c;
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** Packets the model counted while one short iperf3 run went from the client to the server, and the throughput. */
async function countedDuringIperf(b: Backend): Promise<{ packets: number; gbits: number }> {
  const before = (await modelCounters(b))!;
  await run(b.host('server'), ['iperf3', '-s', '-1', '-D'], { timeoutMs: 15_000 });
  await new Promise((r) => setTimeout(r, 500));
  const out = await run(b.host('client'), ['iperf3', '-c', serverAddress(b.testbed), '-t', '2', '-J'], { timeoutMs: 60_000 });
  const after = (await modelCounters(b))!;
  return { packets: after.packets - before.packets, gbits: (JSON.parse(out) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second / 1e9 };
}

/** Whatever any placement leaves in the guest: rules, filters, qdiscs, processes, mounts, the run folder. */
const LEFTOVERS_SCRIPT = `iptables -w -S FORWARD | grep -e NFQUEUE -e hypershield
for dev in to-client to-server; do tc filter show dev "$dev" ingress; tc qdisc show dev "$dev" | grep clsact; done
ls -l /proc/[0-9]*/exe 2>/dev/null | grep -F "$1"
grep -F "$1" /proc/mounts
[ ! -e "$1" ] || echo "$1 is there"
true`;

describe('user-space and eBPF models on a VM model host', { timeout: 900_000 }, () => {
  const ws = tempWorkspace(NAME, { backend: 'qemu' });
  let dir: string;
  before(async () => {
    await ws.backend().up();
    dir = scaffoldModel(path.join(ws.dir, 'model'), 'all').dir;
  });
  after(async () => {
    await ws.cleanup();
    assert.equal(qemuOf(), '', 'no QEMU process of the testbed is left');
    assert.deepEqual(namespaces(`hs-${NAME}-`), [], 'no namespace of the testbed is left');
  });

  const leftovers = async (b: Backend) => (await run(b.host('model'), ['sh', '-c', LEFTOVERS_SCRIPT, 'hs-leftovers', RUN_DIR], { timeoutMs: 30_000 })).split('\n').filter(Boolean);

  test('the backend says the guest runs what this machine builds: models are built here, not in the guest', async () => {
    const b = ws.backend();
    assert.equal(b.capabilities.runsLocalBuilds, true);
    assert.equal(b.capabilities.ownFileSystem, true);
    const cc = await b.host('model').exec(['sh', '-c', 'command -v cc gcc clang make'], { timeoutMs: 30_000 });
    assert.equal(cc.stdout.trim(), '', 'the guest has no compiler');
  });

  for (const placement of ['user', 'ebpf'] as const) {
    test(`${placement}: deployed in few guest commands, counts iperf3 through the model, drops the blocked pattern, undeploys cleanly`, async (t) => {
      const b = ws.backend();
      const calls = traceHosts(b);
      const started = performance.now();
      const r = await deployModel(b, dir, placement, { watchdogSeconds: 60 });
      const deployMs = performance.now() - started;
      const model = calls.filter((c) => c.role === 'model').map((c) => c.what);
      // Every guest command costs a channel and process starts under TCG. User space: preflight; undo the previous
      // model, check for leftovers and arm the watchdog; load (the program on stdin); counters and confirmation. eBPF
      // loads in three: the object (on stdin) and the hooks, the attach, the maps and counters read back.
      const expected = placement === 'user' ? ['exec', 'exec', 'exec', 'exec'] : ['exec', 'exec', 'exec', 'exec', 'exec', 'exec'];
      assert.deepEqual(model, expected, describeCalls(calls));
      assert.match(r.verified, /^counted \d+ packets of a ping from the client to 198\.18\.2\.2 through the model$/);
      assert.ok(r.build.artifacts[0].startsWith(dir), 'the artifact was built in the local project');
      const built = await b.host('model').exec(['ls', `/var/tmp/hypershield/${NAME}`], { timeoutMs: 30_000 });
      assert.notEqual(built.code, 0, 'nothing was built in the guest');

      const iperf = await countedDuringIperf(b);
      assert.ok(iperf.gbits > 0, `iperf3 passed through the model (${iperf.gbits.toFixed(2)} Gbit/s)`);
      assert.ok(iperf.packets > 1000, `the ${placement} model counted ${iperf.packets} packets of iperf3`);
      t.diagnostic(`${placement}: deploy ${(deployMs / 1000).toFixed(1)} s (build ${(r.build.durationMs / 1000).toFixed(1)} s), iperf3 through the model ${iperf.gbits.toFixed(2)} Gbit/s`);

      assert.deepEqual(await deliver(b, ['hello one', 'payload with HSDROP inside', 'hello two']), ['hello one', 'hello two']);
      const counters = await countersAfterDrop(b);
      assert.ok(counters.dropped >= 1 && counters.patternMatches >= 1, JSON.stringify(counters));

      assert.deepEqual(await undeployModel(b), { removed: true });
      assert.deepEqual(await leftovers(b), []);
      assert.deepEqual(await deliver(b, ['HSDROP passes without a model']), ['HSDROP passes without a model']);
    });
  }

  test('a user-space model that links a library the guest lacks gets it uploaded beside it, and runs', async () => {
    const b = ws.backend();
    const extra = scaffoldModel(path.join(ws.dir, 'extra'), 'user').dir;
    const lib = path.join(ws.dir, 'lib');
    fs.mkdirSync(lib);
    fs.writeFileSync(path.join(lib, 'hsextra.c'), 'int hs_extra(void) { return 42; }\n');
    execFileSync('gcc', ['-shared', '-fPIC', '-Wl,-soname,libhsextra.so.1', '-o', path.join(lib, 'libhsextra.so.1'), path.join(lib, 'hsextra.c')]);
    fs.symlinkSync('libhsextra.so.1', path.join(lib, 'libhsextra.so'));
    // The model links it (without calling it): the loader needs it to start the program all the same.
    fs.writeFileSync(path.join(extra, 'hypershield.model.json'), JSON.stringify({
      placements: { user: { build: ['make', 'user', `LDFLAGS=-L${lib} -Wl,-rpath,${lib} -Wl,--no-as-needed -lhsextra`], artifact: 'build/user_space_model' } },
    }));
    const r = await deployModel(b, extra, 'user', { watchdogSeconds: 60 });
    assert.match(r.verified, /counted \d+ packets/);
    assert.equal(r.deployed.detail.uploadedLibraries, path.join(lib, 'libhsextra.so.1'));
    assert.equal((await run(b.host('model'), ['ls', path.posix.join(RUN_DIR, 'lib')], { timeoutMs: 30_000 })).trim(), 'libhsextra.so.1');
    assert.deepEqual(await deliver(b, ['hello three', 'HSDROP at the start', 'hello four']), ['hello three', 'hello four']);
    await undeployModel(b);
    assert.deepEqual(await leftovers(b), []);
  });
});
