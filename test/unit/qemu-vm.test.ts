import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { consoleState, consoleTail, kernelCommandLine, qemuArgv, type GuestConfig, type VmSettings } from '../../extension/core/backends/qemu/vm';
import { parseTestbed, TestbedFileError } from '../../extension/core/testbed/load';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'qemu');

const guest: GuestConfig = {
  hostname: 'lab-model',
  forward: true,
  authorizedKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIP9u8iyno5Us1axEc4uitgoTKGK3KQFz+bKS9GR8B3XV hypershield-lab',
  nics: [
    { tap: 'm-mgmt', mac: '52:54:00:48:01:00', name: 'mgmt', address: '198.19.255.11/24' },
    { tap: 'm-to-client', mac: '52:54:00:48:01:01', name: 'to-client', address: '198.18.1.1/24' },
  ],
};
const settings: VmSettings = { binary: '/opt/qemu/bin/qemu-system-x86_64', memoryMiB: 256, smp: 1, args: ['-d', 'guest_errors'], kernel: '/k', initrd: '/i', append: 'loglevel=4' };

describe('QEMU guest command lines', () => {
  test('the kernel command line carries what the init script reads, without the key comment', () => {
    assert.equal(kernelCommandLine(guest, 'loglevel=4'),
      'console=ttyS0 quiet panic=-1 ipv6.disable=1 cryptomgr.notests initcall_blacklist=crypto_kdf108_init,init_encrypted hs.name=lab-model hs.key=ssh-ed25519:AAAAC3NzaC1lZDI1NTE5AAAAIP9u8iyno5Us1axEc4uitgoTKGK3KQFz+bKS9GR8B3XV ' +
      'hs.forward=1 hs.if=52:54:00:48:01:00,mgmt,198.19.255.11/24 hs.if=52:54:00:48:01:01,to-client,198.18.1.1/24 loglevel=4');
    assert.doesNotMatch(kernelCommandLine({ ...guest, forward: false }, ''), /hs\.forward|\s$/);
  });

  test('TCG, the chosen binary, no default devices, one tap per NIC, extra arguments last before daemonizing', () => {
    const argv = qemuArgv(settings, 'tcg', 'hs-lab-model', guest, '/s/model-console.log', '/s/model.pid');
    assert.equal(argv[0], '/opt/qemu/bin/qemu-system-x86_64');
    assert.ok(argv.includes('-nodefaults'));
    const at = (flag: string) => argv[argv.indexOf(flag) + 1];
    assert.equal(at('-accel'), 'tcg,thread=multi');
    assert.equal(at('-cpu'), 'max,avx=off,avx2=off');
    assert.equal(at('-m'), '256');
    assert.equal(at('-serial'), 'file:/s/model-console.log');
    assert.deepEqual(argv.filter((a) => a.startsWith('tap,')), ['tap,id=n0,ifname=m-mgmt,script=no,downscript=no', 'tap,id=n1,ifname=m-to-client,script=no,downscript=no']);
    assert.deepEqual(argv.slice(-5), ['-d', 'guest_errors', '-daemonize', '-pidfile', '/s/model.pid']);
    assert.ok(!argv.includes('-machine'));
    const kvm = qemuArgv({ ...settings, cpu: 'Skylake-Server', machine: 'q35' }, 'kvm', 'x', guest, 'l', 'p');
    assert.deepEqual(kvm.slice(4, 10), ['-machine', 'q35', '-accel', 'kvm', '-cpu', 'Skylake-Server']);
  });
});

describe('QEMU serial console', () => {
  test('a guest whose init brought the network up (captured from a real boot and poweroff)', () => {
    const log = fs.readFileSync(path.join(FIXTURES, 'console-ready-poweroff.log'), 'utf8');
    assert.equal(consoleState(log), 'network-up');
    assert.equal(consoleState(''), 'booting');
  });

  test('a kernel panic (captured from a real boot without an init)', () => {
    const file = path.join(FIXTURES, 'console-panic.log');
    assert.equal(consoleState(fs.readFileSync(file, 'utf8')), 'panicked');
    const tail = consoleTail(file, 3);
    assert.equal(tail.split('\n').length, 3, 'from the panic on');
    assert.doesNotMatch(tail, /\r/);
    assert.match(tail, /^\[ *[\d.]+\] Kernel panic - not syncing: VFS: Unable to mount root fs/);
    assert.match(consoleTail(path.join(FIXTURES, 'console-ready-poweroff.log'), 2), /reboot: Power down$/, 'the last lines when nothing panicked');
    assert.equal(consoleTail(path.join(FIXTURES, 'missing.log')), '(no console log)');
  });
});

describe('qemu sections of the testbed file', () => {
  test('per-role hypervisor settings validate, so two QEMU builds can be compared', () => {
    const tb = parseTestbed(JSON.stringify({ name: 'lab', backend: 'qemu', hosts: {
      model: { qemu: { binary: '/opt/qemu-mod/bin/qemu-system-x86_64', machine: 'q35', cpu: 'max', accel: 'tcg', memoryMiB: 512, smp: 1, args: ['-d', 'guest_errors'], kernelRelease: '6.1.0-57-amd64' } },
      client: { qemu: { vm: true } },
    } }), 'tb.json');
    assert.equal(tb.hosts.model?.qemu?.binary, '/opt/qemu-mod/bin/qemu-system-x86_64');
    assert.equal(tb.hosts.client?.qemu?.vm, true);
  });

  test('an unknown accelerator or a misspelt field is refused with its path', () => {
    const err = (() => { try { parseTestbed('{ "name": "lab", "backend": "qemu", "hosts": { "model": { "qemu": { "accel": "hvf", "memory": 512 } } } }', 'tb.json'); } catch (e) { return e; } })();
    assert.ok(err instanceof TestbedFileError);
    assert.deepEqual(err.problems.map((p) => p.jsonPath).sort(), ['/hosts/model/qemu/accel', '/hosts/model/qemu/memory']);
  });
});
