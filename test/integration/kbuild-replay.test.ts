// The quick kernel rebuild (kbuild's recorded commands replayed without make) makes exactly what kbuild makes, leaves
// kbuild's records as kbuild would (a kbuild run afterwards finds nothing to compile), and steps aside whenever the
// change is more than the module's C file or the module needs a step it does not take.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openTestbed } from '../../extension/core/backends/open';
import { buildModel, type BuildResult } from '../../extension/core/model/build';
import { scaffoldModel } from '../../extension/core/model/scaffold';
import { fileSha256 } from '../../extension/core/model/source-hash';
import { debianKernelRelease } from '../helpers/debian-kernel-vm';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-kbuild-replay-'));
after(() => fs.rmSync(base, { recursive: true, force: true }));

const REPLAYED = /without make/;

test('an edit of the module\'s C file is rebuilt by replaying kbuild\'s commands: same module, same records, and kbuild steps in for anything else', async () => {
  const ws = path.join(base, 'ws');
  fs.mkdirSync(ws);
  fs.writeFileSync(path.join(ws, 'hypershield.testbed.json'), JSON.stringify({ name: 'kreplay', backend: 'netns' }));
  const dir = scaffoldModel(path.join(base, 'model'), 'kernel').dir;
  const source = path.join(dir, 'kernel_space.c');
  const kdir = `/usr/src/linux-headers-${debianKernelRelease()}`;
  const build = async (): Promise<BuildResult & { replayed: boolean; said: string[] }> => {
    const said: string[] = [];
    const r = await buildModel(openTestbed(ws), dir, 'kernel', { kernelRelease: debianKernelRelease(), progress: { report: (m) => said.push(m) } });
    return { ...r, replayed: said.some((m) => REPLAYED.test(m)), said };
  };
  const snapshot = () => ({
    ko: fileSha256(path.join(dir, 'build', 'kernel_space.ko')),
    objectCmd: fs.readFileSync(path.join(dir, '.kernel_space.o.cmd'), 'utf8'),
    modC: fs.readFileSync(path.join(dir, 'kernel_space.mod.c'), 'utf8'),
    modObjectCmd: fs.readFileSync(path.join(dir, '.kernel_space.mod.o.cmd'), 'utf8'),
  });
  const make = () => execFileSync('make', ['-C', kdir, `M=${dir}`, 'modules', 'KCFLAGS=-fdiagnostics-format=json'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LANG: 'C', LC_ALL: 'C' } });
  /** kbuild itself on the same sources, made to compile the C file again (its object made older than the source). */
  const kbuild = () => {
    const past = new Date(Date.now() - 3600_000);
    fs.utimesSync(path.join(dir, 'kernel_space.o'), past, past);
    return make();
  };
  const compiled = (makeOutput: string) => /CC \[M\]/.test(makeOutput);

  const first = await build();
  assert.equal(first.ok, true, first.log);
  assert.equal(first.replayed, false, 'the first build is kbuild\'s');

  // An edit of the C file alone (a new .modinfo entry and a function change): replayed.
  fs.appendFileSync(source, '\nMODULE_INFO(hs_replay_test, "1");\n');
  const edited = await build();
  assert.equal(edited.ok, true, edited.log);
  assert.equal(edited.replayed, true, edited.said.join('\n'));
  assert.notEqual(edited.buildId, first.buildId);
  const replayed = snapshot();
  assert.ok(!fs.existsSync(path.join(dir, '.kernel_space.o.d')), 'the compiler\'s dependency file is folded into the .cmd file, as kbuild does');
  assert.equal(compiled(make()), false,
    'kbuild run after the replay finds nothing to compile');
  // kbuild from the same sources makes the same bytes and writes the same records.
  assert.equal(compiled(kbuild()), true);
  assert.deepEqual(snapshot(), replayed);

  // MODULE_VERSION makes modpost add a srcversion to kernel_space.mod.c: that file is compiled again too.
  fs.appendFileSync(source, 'MODULE_VERSION("1.2");\n');
  const versioned = await build();
  assert.equal(versioned.replayed, true);
  const withVersion = snapshot();
  assert.notEqual(withVersion.modC, replayed.modC);
  assert.match(withVersion.modC, /srcversion/);
  assert.equal(compiled(kbuild()), true);
  assert.deepEqual(snapshot(), withVersion);

  // A compile error comes back as diagnostics; after the fix the replay still applies.
  const good = fs.readFileSync(source, 'utf8');
  fs.appendFileSync(source, 'static int hs_broken(void) { return hs_no_such_symbol; }\n');
  const broken = await build();
  assert.equal(broken.ok, false);
  assert.equal(broken.replayed, true);
  assert.ok(broken.diagnostics.some((d) => d.severity === 'error' && d.file === source && /hs_no_such_symbol/.test(d.message)), JSON.stringify(broken.diagnostics));
  assert.ok(!fs.existsSync(path.join(dir, 'kernel_space.o')), 'a failed compile leaves no object, as under kbuild');
  fs.writeFileSync(source, good);
  const fixed = await build();
  assert.equal(fixed.ok, true, fixed.log);
  assert.equal(fixed.replayed, true);
  assert.equal(fixed.buildId, versioned.buildId, 'the same sources make the same module');

  // An undefined symbol is modpost's error, at the line that uses it.
  fs.appendFileSync(source, 'extern int hs_missing_symbol(void);\nstatic int __init hs_use_missing(void) { return hs_missing_symbol(); }\nstatic void *hs_keep __used = hs_use_missing;\n');
  const unresolved = await build();
  assert.equal(unresolved.ok, false);
  assert.equal(unresolved.replayed, true);
  assert.ok(unresolved.diagnostics.some((d) => d.severity === 'error' && /hs_missing_symbol/.test(d.message) && d.file === source && d.line > 1), JSON.stringify(unresolved.diagnostics));
  fs.writeFileSync(source, good);

  // Anything but the C file changed: kbuild builds, and records anew.
  fs.appendFileSync(path.join(dir, 'Kbuild'), '# edited\n');
  const kbuildEdit = await build();
  assert.equal(kbuildEdit.ok, true, kbuildEdit.log);
  assert.equal(kbuildEdit.replayed, false);
  fs.appendFileSync(source, '/* again */\n');
  assert.equal((await build()).replayed, true);

  // An exported symbol needs a step of kbuild's (its CRC): the replay steps aside and kbuild builds it whole.
  fs.appendFileSync(source, 'int hs_exported_answer(void) { return 42; }\nEXPORT_SYMBOL_GPL(hs_exported_answer);\n');
  const exported = await build();
  assert.equal(exported.ok, true, exported.log);
  assert.equal(exported.replayed, false);
  assert.match(execFileSync('nm', [path.join(dir, 'build', 'kernel_space.ko')], { encoding: 'utf8' }), /__crc_hs_exported_answer|__kcrctab/);
});
