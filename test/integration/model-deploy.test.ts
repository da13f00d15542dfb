import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Backend } from '../../extension/core/backends/backend';
import { buildModel } from '../../extension/core/model/build';
import { hostBuildMachine } from '../../extension/core/model/build-machine';
import { deployModel, modelCounters, undeployModel } from '../../extension/core/model/deploy/deploy';
import type { ModelCounters } from '../../extension/core/model/deploy/model-host';
import { preparePlacement } from '../../extension/core/model/placement';
import { scaffoldModel } from '../../extension/core/model/scaffold';
import { fileSha256, sourceHash } from '../../extension/core/model/source-hash';
import { serverAddress } from '../../extension/core/testbed/testbed';
import { CLI, tempWorkspace } from '../helpers/workspace';

const NAME = 'tdeploy';
const ns = (role: string) => `hs-${NAME}-${role}`;
const inNs = (role: string, ...argv: string[]) => spawnSync('ip', ['netns', 'exec', ns(role), ...argv], { encoding: 'utf8' });
const RUN_DIR = `/run/hypershield/${NAME}/model`;

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
async function deliver(backend: Backend, payloads: string[]): Promise<string[]> {
  const port = '5599';
  const listener = spawn('ip', ['netns', 'exec', ns('server'), 'python3', '-c', LISTEN, port]);
  let out = '';
  listener.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  try {
    const deadline = Date.now() + 5000;
    while (!out.includes('listening')) {
      assert.ok(Date.now() < deadline, 'the UDP listener started');
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const p of payloads) execFileSync('ip', ['netns', 'exec', ns('client'), 'python3', '-c', SEND, serverAddress(backend.testbed), port, p]);
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    listener.kill();
  }
  return out.split('\n').filter((l) => l && l !== 'listening');
}

/** The model's counters once they show a drop (the user-space model writes its stats file once a second). */
async function countersAfterDrop(backend: Backend): Promise<ModelCounters> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const c = (await modelCounters(backend))!;
    if (c.dropped >= 1 || Date.now() > deadline) return c;
    await new Promise((r) => setTimeout(r, 200));
  }
}

function pings(): boolean {
  return inNs('client', 'ping', '-n', '-q', '-c', '2', '-i', '0.2', '-W', '1', '198.18.2.2').status === 0;
}

/** Everything any placement leaves on the model host. */
function leftovers(): string[] {
  const found: string[] = [];
  const rules = inNs('model', 'iptables', '-w', '-S', 'FORWARD').stdout.split('\n').filter((l) => /NFQUEUE|hypershield/.test(l));
  found.push(...rules);
  for (const dev of ['to-client', 'to-server']) {
    const filters = inNs('model', 'tc', 'filter', 'show', 'dev', dev, 'ingress').stdout.trim();
    if (filters) found.push(`${dev}: ${filters}`);
    const qdiscs = inNs('model', 'tc', 'qdisc', 'show', 'dev', dev).stdout;
    if (/clsact/.test(qdiscs)) found.push(`${dev}: clsact qdisc`);
  }
  const procs = execFileSync('sh', ['-c', 'for e in /proc/[0-9]*/exe; do readlink "$e"; done 2>/dev/null | grep -F "$1" || true', 'x', `/run/hypershield/${NAME}/`], { encoding: 'utf8' }).trim();
  if (procs) found.push(`processes: ${procs}`);
  if (fs.existsSync(RUN_DIR)) found.push(`${RUN_DIR}: ${fs.readdirSync(RUN_DIR).join(' ')}`);
  return found;
}

describe('deploying models on a namespace testbed', () => {
  const ws = tempWorkspace(NAME);
  let dir: string;
  const backend = () => ws.backend();

  before(async () => {
    await backend().up();
    dir = scaffoldModel(path.join(ws.dir, 'model'), 'all').dir;
  });
  after(async () => {
    await undeployModel(backend()).catch(() => undefined);
    await ws.cleanup();
    assert.equal(fs.existsSync(`/run/hypershield/${NAME}`), false, 'down removes the hosts\' files');
  });

  test('user space: traffic still flows, the example rule drops matching traffic, the counters show it', async () => {
    const r = await deployModel(backend(), dir, 'user');
    assert.match(r.verified, /^counted \d+ packets of a ping from the client to 198\.18\.2\.2 through the model$/);
    const deployed = backend().state.read()!.deployed!;
    assert.deepEqual([deployed.placement, deployed.dir, deployed.sourceHash, deployed.buildId], ['user', dir, sourceHash(dir), fileSha256(path.join(dir, 'build', 'user_space_model'))]);
    assert.match(inNs('model', 'iptables', '-w', '-S', 'FORWARD').stdout, /--comment "?hypershield:tdeploy"? -j NFQUEUE --queue-num 0 --queue-bypass/);
    assert.ok(pings(), 'plain traffic crosses the model');
    const stats = JSON.parse(fs.readFileSync(path.join(RUN_DIR, 'stats.json'), 'utf8')) as { per_queue: Array<{ realtime: boolean }> };
    assert.deepEqual(stats.per_queue.map((q) => q.realtime), [true], 'the queue thread runs SCHED_FIFO');
    assert.deepEqual(await deliver(backend(), ['hello one', 'payload with HSDROP inside', 'hello two']), ['hello one', 'hello two']);
    const counters = await countersAfterDrop(backend());
    assert.ok(counters.dropped >= 1 && counters.patternMatches >= 1, JSON.stringify(counters));
    assert.ok(counters.accepted >= 2, JSON.stringify(counters));
  });

  test('a second deploy (eBPF) replaces the first cleanly, and its rule drops too', async () => {
    await deployModel(backend(), dir, 'ebpf');
    assert.doesNotMatch(inNs('model', 'iptables', '-w', '-S', 'FORWARD').stdout, /NFQUEUE/);
    assert.equal(leftovers().filter((l) => l.startsWith('processes')).length, 0, 'user_space_model is gone');
    for (const dev of ['to-client', 'to-server']) {
      assert.match(inNs('model', 'tc', 'filter', 'show', 'dev', dev, 'ingress').stdout, /ebpf_model\.o:\[tc\] direct-action/);
    }
    assert.equal(backend().state.read()!.deployed!.placement, 'ebpf');
    assert.ok(pings());
    assert.deepEqual(await deliver(backend(), ['hello three', 'HSDROP at the start', 'hello four']), ['hello three', 'hello four']);
    const counters = await countersAfterDrop(backend());
    assert.ok(counters.dropped >= 1 && counters.patternMatches >= 1, JSON.stringify(counters));
  });

  test('what another placement left (a rule of this testbed) is found before the deployed model is touched: refused, the model stays', async () => {
    const stray = ['-m', 'comment', '--comment', `hypershield:${NAME}`, '-j', 'ACCEPT'];
    assert.equal(inNs('model', 'iptables', '-w', '-A', 'FORWARD', ...stray).status, 0);
    try {
      await assert.rejects(deployModel(backend(), dir, 'ebpf'), (err: Error) => err.name === 'DeployError' && /An earlier deployment left on .*iptables rule: .*hypershield:tdeploy/.test(err.message));
      assert.equal(backend().state.read()!.deployed!.placement, 'ebpf', 'the deployed model is still recorded');
      assert.match(inNs('model', 'tc', 'filter', 'show', 'dev', 'to-client', 'ingress').stdout, /ebpf_model\.o:\[tc\] direct-action/, 'and still attached');
      assert.deepEqual(await deliver(backend(), ['hello five', 'HSDROP still dropped']), ['hello five']);
    } finally {
      inNs('model', 'iptables', '-w', '-D', 'FORWARD', ...stray);
    }
  });

  test('undeploy restores plain forwarding and leaves no rule, filter, process or file', async () => {
    assert.deepEqual(await undeployModel(backend()), { removed: true });
    assert.deepEqual(leftovers(), []);
    assert.equal(backend().state.read()!.deployed, undefined);
    assert.ok(pings());
    assert.deepEqual(await deliver(backend(), ['HSDROP passes without a model']), ['HSDROP passes without a model']);
    assert.deepEqual(await undeployModel(backend()), { removed: false }, 'undeploying twice is fine');
  });

  test('kernel: on a host that cannot load modules the deploy fails before building, saying why', async () => {
    // Allowed onto the shared kernel, the deploy still stops at the kernel's lack of modules.
    await assert.rejects(deployModel(backend(), dir, 'kernel', { allowHostKernel: true }),
      /The model host model \(netns hs-tdeploy-model\) cannot load kernel modules: its kernel \S+ was built without loadable module support \(\/proc\/modules does not exist\).*use the user or ebpf placement/s);
    assert.ok(!fs.existsSync(path.join(dir, 'build', 'kernel_space.ko')), 'nothing was built');
    assert.deepEqual(leftovers(), []);
    assert.equal(backend().state.read()!.deployed, undefined);
  });

  test('the watchdog on the model host rolls back a deploy the workbench cannot confirm', async () => {
    const started = Date.now();
    await assert.rejects(deployModel(backend(), dir, 'user', { watchdogSeconds: 6, reachable: async () => false }),
      /could not confirm it still reaches model \(netns hs-tdeploy-model\): the watchdog there undoes the deployment within 6 s/);
    assert.ok(Date.now() - started < 6000, 'the deploy finished before the watchdog fired');
    assert.match(inNs('model', 'iptables', '-w', '-S', 'FORWARD').stdout, /NFQUEUE/, 'the model is still loaded: only the watchdog removes it');
    assert.equal(backend().state.read()!.deployed, undefined, 'an unconfirmed deploy is not recorded');
    const deadline = Date.now() + 15_000;
    while (leftovers().length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(leftovers(), [], 'the watchdog removed the rule, the process and the files');
    assert.ok(Date.now() - started >= 6000, 'not before its time');
    assert.ok(pings());
  });

  test('a deploy that fails midway is rolled back and leaves nothing', async () => {
    // Another process holds NFQUEUE queue 0 in the model host, so user_space_model cannot bind it.
    await undeployModel(backend());
    await buildModel(backend(), dir, 'user');
    const blocker = spawn('ip', ['netns', 'exec', ns('model'), path.join(dir, 'build', 'user_space_model'), '--queue-num', '0', '--queues', '1', '--stats', path.join(ws.dir, 'blocker.json')]);
    try {
      let stderr = '';
      blocker.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
      await new Promise<void>((resolve, reject) => {
        blocker.stdout.once('data', () => resolve());
        blocker.once('exit', (code) => reject(new Error(`the queue-holding process exited (${code}): ${stderr}`)));
      });
      await assert.rejects(deployModel(backend(), dir, 'user'), /user_space_model exited on model \(netns hs-tdeploy-model\) before it was ready:\nuser_space_model: .*bind queue/);
      assert.deepEqual(leftovers(), []);
      assert.equal(backend().state.read()!.deployed, undefined);
    } finally {
      blocker.kill('SIGTERM');
    }
  });

  test('a cancelled deploy is rolled back', async () => {
    const controller = new AbortController();
    const progress = { report: (m: string) => { if (m.startsWith('Starting user_space_model')) controller.abort(); } };
    await assert.rejects(deployModel(backend(), dir, 'user', { signal: controller.signal, progress }), { name: 'AbortError' });
    assert.deepEqual(leftovers(), []);
    assert.equal(backend().state.read()!.deployed, undefined);
  });

  test('preparePlacement deploys for the benchmark runner and says what; "none" undeploys', async () => {
    const info = await preparePlacement(backend(), dir, 'user', { config: { queues: 2 } });
    assert.deepEqual(info, { placement: 'user', dir, sourceHash: sourceHash(dir), buildId: fileSha256(path.join(dir, 'build', 'user_space_model')) });
    assert.match(inNs('model', 'iptables', '-w', '-S', 'FORWARD').stdout, /-j NFQUEUE --queue-balance 0:1 --queue-bypass/);
    assert.ok(pings());
    assert.equal(await preparePlacement(backend(), dir, 'none'), undefined);
    assert.deepEqual(leftovers(), []);
  });

  test('the CLI deploys, shows and undeploys a model', () => {
    const cli = (...args: string[]) => spawnSync(CLI[0], [CLI[1], '-w', ws.dir, ...args], { encoding: 'utf8' });
    const deploy = cli('deploy', dir, '--placement', 'ebpf', '--pattern', Buffer.from('BLOCKME').toString('hex'));
    assert.equal(deploy.status, 0, deploy.stderr);
    assert.match(deploy.stdout, /^Deployed the ebpf model from .* on testbed tdeploy \(build [0-9a-f]{12}, source [0-9a-f]{12}\): counted \d+ packets/m);
    assert.match(cli('status').stdout, /model: {2}ebpf model from /);
    const undeploy = cli('undeploy');
    assert.equal(undeploy.status, 0, undeploy.stderr);
    assert.match(undeploy.stdout, /Undeployed the model of testbed tdeploy; plain forwarding is restored\./);
    assert.deepEqual(leftovers(), []);
    const missing = cli('deploy', dir);
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /required option '--placement <placement>' not specified/);
  });

  test('a model built in a copy on the model host reports diagnostics against the local project', async () => {
    const broken = scaffoldModel(path.join(ws.dir, 'broken'), 'user').dir;
    const first = fs.readFileSync(path.join(broken, 'packet_queue.c'), 'utf8').split('\n').length;
    fs.appendFileSync(path.join(broken, 'packet_queue.c'), '\nint hs_broken = hs_missing;\n');
    const copy = path.join(ws.dir, 'copy-on-model-host');
    const r = await buildModel(backend(), broken, 'user', { machine: hostBuildMachine(backend().host('model'), broken, copy) });
    assert.equal(r.ok, false);
    assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => [d.file, d.line]), [[path.join(broken, 'packet_queue.c'), first + 1]]);
    fs.writeFileSync(path.join(broken, 'packet_queue.c'), fs.readFileSync(path.join(broken, 'packet_queue.c'), 'utf8').replace('int hs_broken = hs_missing;', ''));
    const ok = await buildModel(backend(), broken, 'user', { machine: hostBuildMachine(backend().host('model'), broken, copy) });
    assert.ok(ok.ok, ok.log);
    assert.equal(ok.artifacts[0], path.join(broken, 'build', 'user_space_model'), 'the artifact was fetched into the project');
    assert.equal(ok.buildId, fileSha256(path.join(copy, 'build', 'user_space_model')));
  });
});
