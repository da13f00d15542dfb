// A clean kernel build's log, as `hypershield build` streams it: gcc's JSON diagnostics format prints "[]" for every
// file compiled without a message, and those lines must not reach the user; the diagnostics are still parsed.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openTestbed } from '../../extension/core/backends/open';
import { buildModel } from '../../extension/core/model/build';
import { scaffoldModel } from '../../extension/core/model/scaffold';
import { debianKernelRelease } from '../helpers/debian-kernel-vm';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-kbuild-log-'));
after(() => fs.rmSync(base, { recursive: true, force: true }));

test('a kernel build shows no stray "[]" lines, and a broken one still gets its diagnostics', async () => {
  const ws = path.join(base, 'ws');
  fs.mkdirSync(ws);
  fs.writeFileSync(path.join(ws, 'hypershield.testbed.json'), JSON.stringify({ name: 'tplkbuild', backend: 'netns' }));
  const dir = scaffoldModel(path.join(base, 'model'), 'kernel').dir;
  let streamed = '';
  const clean = await buildModel(openTestbed(ws), dir, 'kernel', { kernelRelease: debianKernelRelease(), onOutput: (c) => { streamed += c; } });
  assert.equal(clean.ok, true, clean.log);
  assert.match(streamed, /LD \[M\] .*kernel_space\.ko/);
  assert.doesNotMatch(streamed, /^\s*\[\]\s*$/m);
  assert.equal(streamed, clean.log);

  fs.appendFileSync(path.join(dir, 'kernel_space.c'), '\nstatic int hs_broken(void) { return hs_no_such_symbol; }\n');
  const broken = await buildModel(openTestbed(ws), dir, 'kernel', { kernelRelease: debianKernelRelease() });
  assert.equal(broken.ok, false);
  assert.ok(broken.diagnostics.some((d) => d.severity === 'error' && /hs_no_such_symbol/.test(d.message)), JSON.stringify(broken.diagnostics));
});
