import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { exclusive, lockHolder, TestbedBusyError } from '../../extension/core/testbed/lock';

const NAME = `tlock-${process.pid}`;
const CONTENDER = [path.join(__dirname, '..', '..', 'node_modules', '.bin', 'tsx'), path.join(__dirname, '..', 'helpers', 'lock-contender.ts')];

test('an operation holds the lock while it runs and releases it after, also when it fails', async () => {
  await exclusive(NAME, 'up', async () => {
    assert.deepEqual({ ...(await lockHolder(NAME)), since: undefined }, { pid: process.pid, operation: 'up', since: undefined });
  });
  assert.equal(await lockHolder(NAME), undefined);
  await assert.rejects(exclusive(NAME, 'up', async () => { throw new Error('boom'); }), /boom/);
  assert.equal(await lockHolder(NAME), undefined);
});

test('an operation inside another goes on; a second one beside it is refused, naming the first', async () => {
  let release!: () => void;
  const bench = exclusive(NAME, 'bench', async () => {
    await exclusive(NAME, 'deploy', async () => undefined); // the placement matrix deploys inside its bench
    await new Promise<void>((r) => { release = r; });
  });
  await new Promise((r) => setTimeout(r, 50));
  await assert.rejects(exclusive(NAME, 'mode direct', async () => undefined),
    (err: Error) => err instanceof TestbedBusyError && err.message.includes(`Testbed ${NAME} is busy: bench (process ${process.pid}`) && err.message.includes('then mode direct again'));
  release();
  await bench;
});

test('processes racing for the lock never hold it at the same time, and none is told "busy" once it is free', async () => {
  const contenders = 8;
  const outs = await Promise.all(Array.from({ length: contenders }, () => promisify(execFile)(CONTENDER[0], [CONTENDER[1], NAME, '300'])));
  const results = outs.map((o) => JSON.parse(o.stdout) as { got: boolean; from?: number; to?: number });
  const holders = results.filter((r) => r.got).sort((a, b) => a.from! - b.from!);
  assert.ok(holders.length >= 1, 'someone got the lock');
  for (let i = 1; i < holders.length; i++) assert.ok(holders[i].from! >= holders[i - 1].to!, 'two processes held the lock at once');
  assert.equal(await lockHolder(NAME), undefined, 'nobody holds it after all exited');
});

test('a holder killed with SIGKILL frees the lock at once: nothing stale is left to take over', async () => {
  const holder = spawn(CONTENDER[0], [CONTENDER[1], NAME, '30000'], { stdio: 'ignore' });
  try {
    let who;
    for (let i = 0; i < 100 && !(who = await lockHolder(NAME)); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(who?.operation ?? '', /^contender \d+$/);
    await assert.rejects(exclusive(NAME, 'undeploy', async () => undefined), new RegExp(`busy: contender \\d+ \\(process ${who!.pid}, since`));
    process.kill(who!.pid, 'SIGKILL');
    for (let i = 0; i < 100 && (await lockHolder(NAME)); i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await exclusive(NAME, 'undeploy', async () => 'ran'), 'ran');
  } finally {
    holder.kill('SIGKILL');
  }
});
