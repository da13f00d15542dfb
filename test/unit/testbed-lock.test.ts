import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { exclusive, lockFile, TestbedBusyError } from '../../extension/core/testbed/lock';

const NAME = `tlock-${process.pid}`;

test('an operation holds the lock while it runs and releases it after, also when it fails', async () => {
  await exclusive(NAME, 'up', async () => {
    assert.match(fs.readFileSync(lockFile(NAME), 'utf8'), new RegExp(`"pid":${process.pid},"operation":"up"`));
  });
  assert.equal(fs.existsSync(lockFile(NAME)), false);
  await assert.rejects(exclusive(NAME, 'up', async () => { throw new Error('boom'); }), /boom/);
  assert.equal(fs.existsSync(lockFile(NAME)), false);
});

test('an operation inside another goes on; a second one beside it is refused, naming the first', async () => {
  let release!: () => void;
  const bench = exclusive(NAME, 'bench', async () => {
    await exclusive(NAME, 'deploy', async () => undefined); // the placement matrix deploys inside its bench
    await new Promise<void>((r) => { release = r; });
  });
  await new Promise((r) => setImmediate(r));
  await assert.rejects(exclusive(NAME, 'mode direct', async () => undefined),
    (err: Error) => err instanceof TestbedBusyError && err.message.includes(`Testbed ${NAME} is busy: bench (process ${process.pid}`) && err.message.includes('then mode direct again'));
  release();
  await bench;
});

test('a lock held by another live process is respected; one left by a dead process is taken over', async () => {
  const other = spawn('sleep', ['30']);
  try {
    fs.writeFileSync(lockFile(NAME), JSON.stringify({ pid: other.pid, operation: 'deploy', since: '2026-11-22T08:00:00.000Z' }));
    await assert.rejects(exclusive(NAME, 'undeploy', async () => undefined), new RegExp(`busy: deploy \\(process ${other.pid}, since 2026-11-22T08:00:00.000Z\\)`));
  } finally {
    other.kill('SIGKILL');
    await new Promise((r) => other.on('close', r));
  }
  assert.equal(await exclusive(NAME, 'undeploy', async () => 'ran'), 'ran');
  assert.equal(fs.existsSync(lockFile(NAME)), false);
});
