// Several commands in one exec (extension/core/hosts/batch.ts), run by a real /bin/sh (dash, as on Debian hosts and
// the QEMU guests): each command's exit code, stdout and stderr come back apart; arguments are never shell text; a
// failing command does not stop the next; a batch that runs out of time says which commands did not finish.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execBatch } from '../../extension/core/hosts/batch';
import type { Host } from '../../extension/core/hosts/host';
import { execLocal } from '../../extension/core/util/local-process';

/** This machine as a host: argv run without a shell, as every backend runs it. */
const local = { exec: (argv, opts) => execLocal(argv, opts) } as Pick<Host, 'exec'> as Host;

test('each command of a batch comes back with its own exit code, stdout and stderr', async () => {
  const r = await execBatch(local, [
    ['true'],
    ['sh', '-c', 'echo out; echo err >&2; exit 3'],
    ['printf', '%s|', 'a b', '$(id)', '"q', "'s", '*', '${HOME}', '\\n'],
    ['printf', 'no newline at the end'],
    ['sh', '-c', 'printf "two\\nlines"; printf "err without newline" >&2'],
    ['cat'],
    ['/nonexistent/program'],
  ], { timeoutMs: 30_000 });
  assert.deepEqual(r.slice(0, 6), [
    { code: 0, stdout: '', stderr: '' },
    { code: 3, stdout: 'out\n', stderr: 'err\n' },
    { code: 0, stdout: 'a b|$(id)|"q|\'s|*|${HOME}|\\n|', stderr: '' },
    { code: 0, stdout: 'no newline at the end', stderr: '' },
    { code: 0, stdout: 'two\nlines', stderr: 'err without newline\n' },
    { code: 0, stdout: '', stderr: '' },
  ]);
  assert.equal(r[6].code, 127);
  assert.match(r[6].stderr, /nonexistent/);
});

test('a batch that runs out of time: what finished is kept, the rest has no exit code', async () => {
  const r = await execBatch(local, [['echo', 'done'], ['sleep', '30'], ['echo', 'never']], { timeoutMs: 1_000 });
  assert.deepEqual(r[0], { code: 0, stdout: 'done\n', stderr: '' });
  assert.equal(r[1].code, null);
  assert.equal(r[2].code, null);
});

test('an empty argv is refused before anything runs', async () => {
  await assert.rejects(execBatch(local, [['true'], []], { timeoutMs: 5_000 }), /empty argv/);
});
