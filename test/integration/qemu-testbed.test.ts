// A qemu testbed with a VM model host (Debian's kernel, under TCG here) between client and server namespaces: the
// kernel template built for the guest's exact release, loaded, seen counting iperf3 traffic through the model and
// not in direct mode, unloaded; the conformance corpus decided by the module as by the other placements; the watchdog rescuing a guest whose module drops everything; kill -9 of the CLI
// during bring-up, during deploy and during a benchmark run leaving nothing after `down`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Backend } from '../../extension/core/backends/backend';
import { checkPath } from '../../extension/core/bench/path-check';
import { run } from '../../extension/core/hosts/host';
import { deployModel, modelCounters, undeployModel } from '../../extension/core/model/deploy/deploy';
import { runDirFor } from '../../extension/core/model/deploy/run-dir';
import { scaffoldModel } from '../../extension/core/model/scaffold';
import { testbedStatus } from '../../extension/core/testbed/status';
import { serverAddress } from '../../extension/core/testbed/testbed';
import { describeCalls, traceHosts } from '../helpers/host-trace';
import { CLI, namespaces, tempWorkspace } from '../helpers/workspace';
import { loadCorpus } from '../conformance/corpus';
import { conformance, describeFailures } from '../conformance/runner';
import { testbedRunner } from '../conformance/testbed-runner';

/** QEMU processes of a testbed (they are named hs-NAME-ROLE). */
const qemuOf = (name: string) => spawnSync('pgrep', ['-f', `qemu-system.*-name hs-${name}-`], { encoding: 'utf8' }).stdout.trim();
const cli = (dir: string, ...args: string[]) => spawnSync(CLI[0], [CLI[1], '-w', dir, ...args], { encoding: 'utf8', timeout: 600_000 });

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, `${what} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Nothing of the testbed is left on this machine: no QEMU, no namespace (taps and bridges live in them). */
function assertNothingLeft(name: string): void {
  assert.equal(qemuOf(name), '', `no QEMU process of ${name} is left`);
  assert.deepEqual(namespaces(`hs-${name}-`), [], `no namespace of ${name} is left`);
  assert.deepEqual(execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).split('\n').filter((l) => / [cms]-(to-client|to-server|to-model|mgmt)[:@]/.test(l)), [],
    'no tap or veth of a testbed in this machine\'s namespace');
}

/** Packets the kernel template counted while one iperf3 run went from the client to the server. */
async function countedDuringIperf(b: Backend): Promise<{ packets: number; gbits: number }> {
  const before = (await modelCounters(b))!;
  await run(b.host('server'), ['iperf3', '-s', '-1', '-D'], { timeoutMs: 15_000 });
  await new Promise((r) => setTimeout(r, 500));
  const out = await run(b.host('client'), ['iperf3', '-c', serverAddress(b.testbed), '-t', '3', '-J'], { timeoutMs: 60_000 });
  const after = (await modelCounters(b))!;
  return { packets: after.packets - before.packets, gbits: (JSON.parse(out) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second / 1e9 };
}

/** A module that drops every IPv4 packet in and out of the guest, the SSH control channel included. */
const DROP_ALL = `#include <linux/module.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
static char *action = "drop", *pattern = "";
static int flow_timeout = 30;
module_param(action, charp, 0);
module_param(pattern, charp, 0);
module_param(flow_timeout, int, 0);
static unsigned int drop(void *priv, struct sk_buff *skb, const struct nf_hook_state *state) { return NF_DROP; }
static struct nf_hook_ops ops[] = {
  { .hook = drop, .pf = NFPROTO_IPV4, .hooknum = NF_INET_PRE_ROUTING, .priority = NF_IP_PRI_FIRST },
  { .hook = drop, .pf = NFPROTO_IPV4, .hooknum = NF_INET_LOCAL_OUT, .priority = NF_IP_PRI_FIRST },
};
static int __init drop_init(void) { return nf_register_net_hooks(&init_net, ops, ARRAY_SIZE(ops)); }
static void __exit drop_exit(void) { nf_unregister_net_hooks(&init_net, ops, ARRAY_SIZE(ops)); }
module_init(drop_init);
module_exit(drop_exit);
MODULE_LICENSE("GPL");
`;

describe('qemu testbed with a VM model host', { timeout: 1_800_000 }, () => {
  const NAME = 'vmk';
  const ws = tempWorkspace(NAME, { backend: 'qemu' });
  const lsmod = async (b: Backend) => (await run(b.host('model'), ['cat', '/proc/modules'], { timeoutMs: 30_000 })).split('\n').map((l) => l.split(' ')[0]);
  before(async () => { await ws.backend().up(); });
  after(async () => {
    await ws.cleanup();
    assertNothingLeft(NAME);
  });

  test('the model host is a VM with its own kernel, ready and saying it is emulated; routes cross it in model mode only', async () => {
    const b = ws.backend();
    const s = await testbedStatus(b);
    assert.equal(s.state, 'up');
    const model = s.hosts.find((h) => h.role === 'model')!;
    assert.deepEqual(model.addresses.sort(), ['198.18.1.1/24', '198.18.2.1/24'], 'the management NIC is not listed');
    assert.match(model.kernel!, /^6\.1\.0-\d+-amd64$/);
    assert.notEqual(model.kernel, s.hosts.find((h) => h.role === 'client')!.kernel);
    assert.match(model.detail!, /^VM ready · (emulated \(TCG\)|KVM) · console /);
    assert.equal(b.capabilities.emulated, /emulated/.test(model.detail!));
    assert.ok(b.capabilities.ownKernel && b.capabilities.moduleLoading && b.capabilities.ownFileSystem);
    assert.ok(fs.readFileSync(path.join(ws.dir, '.hypershield', 'state', NAME, 'model-console.log'), 'utf8').includes('hs-network-up'), 'the console log is kept');
    assert.equal(model.consoleLog, path.join(ws.dir, '.hypershield', 'state', NAME, 'model-console.log'), 'status names it (Open VM Console Log opens it)');
    assert.equal((await run(b.host('model'), ['ip', 'route', 'show', 'default'], { timeoutMs: 30_000 })).trim(), '', 'no default route in the guest');
    // Nothing listens in this machine's namespace: the control channel is inside the testbed's fabric namespace.
    assert.doesNotMatch(execFileSync('ss', ['-Hltn'], { encoding: 'utf8' }), /198\.19\.255\./);

    const viaModel = await checkPath(b, 'model');
    assert.ok(viaModel.crossesModel, `model mode crosses the VM (${viaModel.modelPackets} packets)`);
    await b.setMode('direct');
    const direct = await checkPath(b, 'direct');
    assert.ok(!direct.crossesModel, `direct mode does not (${direct.modelPackets} packets)`);
    await b.setMode('model');
  });

  test('the kernel template, built for the guest kernel, counts iperf3 through the model and not in direct mode; rmmod removes it', async () => {
    const b = ws.backend();
    const dir = path.join(ws.dir, 'kmodel');
    scaffoldModel(dir, 'kernel');
    const calls = traceHosts(b);
    const r = await deployModel(b, dir, 'kernel', { watchdogSeconds: 60 });
    // Every command on an emulated guest costs a channel and process starts there: the deploy asks the guest once
    // before the build, once to undo the previous model, check for leftovers and arm the watchdog, once to load, and
    // once to read the counters and confirm; the module goes with the load command, not as an upload.
    assert.deepEqual(calls.map((c) => `${c.role} ${c.what}`), ['model exec', 'model exec', 'model exec', 'client exec', 'model exec'], describeCalls(calls));
    assert.equal(r.build.kernel!.release, (await run(b.host('model'), ['uname', '-r'], { timeoutMs: 30_000 })).trim());
    assert.match(r.verified, /counted \d+ packets/);
    assert.ok((await lsmod(b)).includes('kernel_space'));
    // The undo step was recorded on the guest (before insmod), as an argv of NUL-terminated words.
    const step = await run(b.host('model'), ['cat', path.posix.join(runDirFor(NAME).undo, '001-unload-module')], { timeoutMs: 30_000 });
    assert.deepEqual(step.split('\0').slice(-3), ['hs-rmmod', 'kernel_space', '']);

    // Deployed again with nothing changed: no build, the same round trips.
    calls.length = 0;
    const again = await deployModel(b, dir, 'kernel', { watchdogSeconds: 60 });
    assert.equal(again.build.buildId, r.build.buildId);
    assert.equal(again.build.log, r.build.log);
    assert.equal(calls.filter((c) => c.role === 'model').length, 4, describeCalls(calls));
    assert.match(again.verified, /counted \d+ packets/);

    // The build no longer waits for the guest's answer (the release the last deploy saw is built for while the guest
    // is asked); when the guest runs another kernel than that one, the module is built for the one it runs.
    b.state.update((s) => { s.deployed!.detail.kernelRelease = 'not-a-kernel-release'; });
    const other = await deployModel(b, dir, 'kernel', { watchdogSeconds: 60 });
    assert.equal(other.build.kernel!.release, r.build.kernel!.release);
    assert.equal(other.build.buildId, r.build.buildId);

    const throughModel = await countedDuringIperf(b);
    assert.ok(throughModel.packets > 1000, `the module counted ${throughModel.packets} packets of iperf3 through the model`);
    await b.setMode('direct');
    const direct = await countedDuringIperf(b);
    assert.ok(direct.packets < 20, `in direct mode it counted ${direct.packets}`);
    await b.setMode('model');

    await undeployModel(b);
    assert.ok(!(await lsmod(b)).includes('kernel_space'), 'rmmod removed it');
  });

  test('the kernel module decides the conformance corpus exactly as the policy defines (as user space and eBPF do)', async () => {
    const dir = scaffoldModel(path.join(ws.dir, 'kconf'), 'kernel').dir;
    const wire = path.join(ws.dir, 'hs-wire');
    execFileSync('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-static', '-o', wire, path.join(__dirname, '..', 'conformance', 'hs-wire.c')]);
    const corpus = loadCorpus();
    const runner = testbedRunner('kernel module (Debian 12 guest)', ws.backend(), dir, 'kernel', wire);
    const reports = await conformance(runner, corpus, corpus.cases);
    assert.equal(reports.length, corpus.cases.length);
    assert.equal(describeFailures(runner, reports), '', 'every case conforms');
  });

  test('a module that drops everything, the control channel too, is unloaded by the watchdog and the guest answers again', async () => {
    const b = ws.backend();
    const dir = path.join(ws.dir, 'dropall');
    scaffoldModel(dir, 'kernel');
    fs.writeFileSync(path.join(dir, 'kernel_space.c'), DROP_ALL);
    await assert.rejects(deployModel(b, dir, 'kernel', { watchdogSeconds: 8 }), (err: Error) => err.name === 'DeployError');
    await waitFor('the guest answering again', async () => (await b.host('model').exec(['true'], { timeoutMs: 10_000 }).catch(() => undefined))?.code === 0, 120_000);
    assert.ok(!(await lsmod(b)).includes('kernel_space'), 'the watchdog removed the module');
    assert.ok((await checkPath(b, 'model')).crossesModel, 'traffic flows through the model again');
  });

  test('kill -9 of the CLI during a deploy: status shows it interrupted, undeploy removes the module', async () => {
    const b = ws.backend();
    const dir = path.join(ws.dir, 'kmodel');
    const child = spawn(CLI[0], [CLI[1], '-w', ws.dir, 'deploy', dir, '--placement', 'kernel', '--watchdog', '600'], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    await waitFor('the module loaded by the deploy', async () => {
      assert.equal(child.exitCode, null, `the deploy is still running: ${stderr}`);
      return (await lsmod(b)).includes('kernel_space');
    }, 300_000);
    process.kill(-child.pid!, 'SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.match(cli(ws.dir, 'status').stdout, /INTERRUPTED deploy of the kernel model/);
    const u = cli(ws.dir, 'undeploy');
    assert.equal(u.status, 0, u.stderr);
    assert.ok(!(await lsmod(b)).includes('kernel_space'));
  });

  test('a guest that panics is noticed (change event), and status says so with the console tail', async () => {
    const b = ws.backend();
    const changes: string[] = [];
    const stop = b.onDidChange((c) => changes.push(`${c.role}: ${c.what}`));
    try {
      await b.host('model').exec(['sh', '-c', 'echo 1 > /proc/sys/kernel/sysrq; echo c > /proc/sysrq-trigger'], { timeoutMs: 5000 });
      await waitFor('a change event', () => changes.length > 0, 60_000);
    } finally {
      stop();
      await b.dispose();
    }
    assert.match(changes[0], /^model: the model VM panicked; its console says:\n[\s\S]*Kernel panic - not syncing/);
    const model = (await testbedStatus(b)).hosts.find((h) => h.role === 'model')!;
    assert.equal(model.state, 'stopped');
    assert.match(model.detail!, /^VM panicked · [\s\S]*sysrq triggered crash/);
  });
});

describe('qemu testbed: kill -9 of the CLI during bring-up', { timeout: 900_000 }, () => {
  const NAME = 'vmkill';
  const ws = tempWorkspace(NAME, { backend: 'qemu' });
  after(async () => { await ws.cleanup(); });

  test('down after the CLI was killed while the VM booted leaves no QEMU process, tap, bridge or namespace', async () => {
    const child = spawn(CLI[0], [CLI[1], '-w', ws.dir, 'up'], { stdio: 'ignore', detached: true });
    const consoleLog = path.join(ws.dir, '.hypershield', 'state', NAME, 'model-console.log');
    await waitFor('QEMU started', () => qemuOf(NAME) !== '' && fs.existsSync(consoleLog), 300_000);
    process.kill(-child.pid!, 'SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.notEqual(qemuOf(NAME), '', 'QEMU outlives the CLI (it is daemonized)');
    const d = cli(ws.dir, 'down');
    assert.equal(d.status, 0, d.stderr);
    assertNothingLeft(NAME);
  });
});

describe('qemu testbed: kill -9 of the CLI during a benchmark run', { timeout: 900_000 }, () => {
  const NAME = 'vxrun';
  const ws = tempWorkspace(NAME, { backend: 'qemu' });
  after(async () => { await ws.cleanup(); });

  test('down after the CLI was killed while iperf3 ran through the VM leaves no QEMU process, tap, namespace or run file', async () => {
    await ws.backend().up();
    const child = spawn(CLI[0], [CLI[1], '-w', ws.dir, 'bench', '--benchmarks', 'iperf3', '--modes', 'model', '--duration', '5', '--reps', '3', '--warmup', '0'],
      { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; if (stderr.includes('repetition 1/3')) resolve(); });
      child.once('close', () => reject(new Error(`bench ended before it could be killed:\n${stderr}`)));
    });
    const iperf3 = () => execFileSync('ip', ['netns', 'pids', `hs-${NAME}-server`], { encoding: 'utf8' }).split(/\s+/).filter(Boolean)
      .filter((pid) => { try { return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('iperf3'); } catch { return false; } });
    await waitFor('the iperf3 server running', () => iperf3().length > 0, 60_000);
    // tsx runs the CLI in a child process: kill the whole group like a crash would.
    process.kill(-child.pid!, 'SIGKILL');
    await new Promise((r) => child.once('close', r));
    assert.notEqual(qemuOf(NAME), '', 'the VM outlives the CLI');
    assert.ok(iperf3().length > 0, 'and so does the iperf3 server');

    const d = cli(ws.dir, 'down');
    assert.equal(d.status, 0, d.stderr);
    assertNothingLeft(NAME);
    assert.equal(fs.existsSync(ws.backend().state.file), false, 'no state file');
    assert.equal(fs.existsSync(`/run/hypershield/${NAME}`), false, 'no pid or log file of the dead run\'s daemons');
  });
});
