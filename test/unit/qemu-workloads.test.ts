// The workload tool sets of VM images: one list of names (the schema's enum repeats it), an unknown name refused
// with the names allowed, and the fix a missing tool on a VM names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseTestbed, TestbedFileError } from '../../extension/core/testbed/load';
import { normalWorkloads, vmToolFix, WORKLOAD_TOOL_NAMES, workloadPrograms } from '../../extension/core/backends/qemu/workloads';
import { QemuBackend } from '../../extension/core/backends/qemu-backend';
import { StateStore } from '../../extension/core/testbed/state';

const schema = JSON.parse(fs.readFileSync(path.join(__dirname, '../../schemas/testbed.schema.json'), 'utf8')) as {
  definitions: { qemuHost: { properties: { workloads: { items: { enum: string[] } } } } };
};

test('the schema lists exactly the workload tool sets the image knows', () => {
  assert.deepEqual(schema.definitions.qemuHost.properties.workloads.items.enum, WORKLOAD_TOOL_NAMES);
});

test('a testbed file names tool sets per VM role; an unknown name is refused with the allowed ones', () => {
  const tb = parseTestbed('{ "name": "vmw-x", "backend": "qemu", "hosts": { "server": { "qemu": { "vm": true, "workloads": ["redis", "sysbench"] } } } }', 'tb.json');
  assert.deepEqual(tb.hosts.server?.qemu?.workloads, ['redis', 'sysbench']);
  const err = (() => { try { parseTestbed('{ "name": "vmw-x", "backend": "qemu", "hosts": { "server": { "qemu": {\n"workloads": ["mysql"] } } } }', 'tb.json'); } catch (e) { return e; } })();
  assert.ok(err instanceof TestbedFileError);
  assert.match(err.message, /line 2, column \d+: \/hosts\/server\/qemu\/workloads\/0: must be equal to one of the allowed values: "sysbench", "fio", "redis", "perf"/);
});

test('an image variant is keyed by the sets in one order, without repeats', () => {
  assert.deepEqual(normalWorkloads(['redis', 'sysbench', 'redis']), ['sysbench', 'redis']);
  assert.deepEqual(normalWorkloads(), []);
  // Every program of every set is installed on this machine (CI installs the packages): images can be made.
  for (const [program, pkg] of workloadPrograms(WORKLOAD_TOOL_NAMES)) assert.ok(fs.existsSync(program), `${program} (${pkg})`);
});

test('a program missing on a VM names the tool set to add, or why no image carries it', () => {
  const tb = parseTestbed('{ "name": "vmw-x", "backend": "qemu" }', '/ws/hypershield.testbed.json');
  assert.equal(vmToolFix(tb, 'server', 'redis-server'), 'add "redis" to hosts.server.qemu.workloads in /ws/hypershield.testbed.json; the VM image is then made with it');
  assert.match(vmToolFix(tb, 'client', 'sysbench'), /^add "sysbench" to hosts\.client\.qemu\.workloads/);
  // bench --profile on a model VM whose image lacks perf says this.
  assert.equal(vmToolFix(tb, 'model', 'perf'), 'add "perf" to hosts.model.qemu.workloads in /ws/hypershield.testbed.json; the VM image is then made with it');
  assert.match(vmToolFix(tb, 'server', 'mariadbd'), /the VM image cannot carry it \(workload tool sets: sysbench, fio, redis, perf\): run the server as a namespace \(leave out hosts\.server\.qemu\.vm\)/);
});

test('preflight refuses workloads on a namespace role and with an own initrd, naming the field', async () => {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-vmw-pre-'));
  try {
    const file = path.join(ws, 'hypershield.testbed.json');
    fs.writeFileSync(path.join(ws, 'k'), '');
    const tb = parseTestbed(JSON.stringify({ name: 'vmw-pre', backend: 'qemu', hosts: {
      client: { qemu: { workloads: ['sysbench'] } },
      model: { qemu: { kernel: 'k', initrd: 'k', hostKey: 'ssh-ed25519 AAAA', workloads: ['redis'] } },
      server: { qemu: { vm: true, workloads: ['sysbench'] } } } }), file);
    const problems = await new QemuBackend(tb, new StateStore(ws, tb.name)).preflight();
    assert.ok(problems.includes(`hosts.client.qemu.workloads in ${file}: the client is a namespace, which runs this machine's programs; set hosts.client.qemu.vm to true or leave workloads out.`), problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith(`hosts.model.qemu.workloads in ${file}: workload tools go into the workbench's image, not your own initrd`)), problems.join('\n'));
    assert.ok(!problems.some((p) => p.includes('hosts.server.qemu.workloads')), problems.join('\n'));
  } finally {
    fs.rmSync(ws, { recursive: true, force: true });
  }
});
