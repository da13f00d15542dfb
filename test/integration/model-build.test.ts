import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openTestbed } from '../../extension/core/backends/open';
import { buildModel } from '../../extension/core/model/build';
import { fetchDistroHeaders } from '../../extension/core/model/kernel-headers';
import { scaffoldModel } from '../../extension/core/model/scaffold';
import { fileSha256, sourceHash } from '../../extension/core/model/source-hash';
import { CLI } from '../helpers/workspace';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-build-'));
const workspace = path.join(base, 'ws');
/** The Debian 6.1 release whose headers are installed in /usr/src (CI: apt-get install linux-headers-amd64). */
const debianRelease = fs.readdirSync('/usr/src').find((d) => /^linux-headers-6\.1\.\d+-\d+-amd64$/.test(d))?.replace(/^linux-headers-/, '') ?? 'missing';

function project(name: string): string {
  return scaffoldModel(path.join(base, name), 'all').dir;
}

/** Appends lines to a project file and returns the number of the first appended line. */
function append(file: string, text: string): number {
  const first = fs.readFileSync(file, 'utf8').split('\n').length;
  fs.appendFileSync(file, `\n${text}\n`);
  return first + 1;
}

describe('building models', () => {
  before(() => {
    fs.mkdirSync(workspace);
    fs.writeFileSync(path.join(workspace, 'hypershield.testbed.json'), JSON.stringify({ name: 'tbuild', backend: 'netns' }));
  });
  after(() => fs.rmSync(base, { recursive: true, force: true }));

  test('the user-space and eBPF templates build cleanly with this machine\'s toolchain', async () => {
    const dir = project('clean');
    const backend = openTestbed(workspace);
    for (const placement of ['user', 'ebpf'] as const) {
      let streamed = '';
      const r = await buildModel(backend, dir, placement, { onOutput: (c) => { streamed += c; } });
      assert.ok(r.ok, r.log);
      assert.deepEqual(r.diagnostics, [], 'no errors and no warnings');
      assert.equal(r.artifacts.length, 1);
      assert.equal(r.buildId, fileSha256(r.artifacts[0]));
      assert.equal(r.sourceHash, sourceHash(dir));
      assert.ok(streamed.length > 0 && r.log.includes(streamed.trim().split('\n')[0]), 'output was streamed as it came');
    }
    assert.ok(fs.existsSync(path.join(dir, 'build', 'user_space_model')) && fs.existsSync(path.join(dir, 'build', 'ebpf_model.o')));
  });

  test('the kernel template builds cleanly against the Debian 6.1 headers in /usr/src', async () => {
    const dir = project('kernel');
    const r = await buildModel(openTestbed(workspace), dir, 'kernel', { kernelRelease: debianRelease });
    assert.ok(r.ok, r.log);
    assert.deepEqual(r.diagnostics, []);
    assert.deepEqual(r.kernel, { release: debianRelease, dir: `/lib/modules/${debianRelease}/build`, origin: 'installed' });
    const vermagic = execFileSync('modinfo', ['-F', 'vermagic', r.artifacts[0]], { encoding: 'utf8' });
    assert.match(vermagic, new RegExp(`^${debianRelease.replace(/\./g, '\\.')} `));
  });

  test('the kernel template builds against a Debian headers package fetched into a cache and named in the testbed file', async () => {
    const cache = path.join(base, 'cache');
    const tree = await fetchDistroHeaders(debianRelease, cache);
    assert.equal(tree, path.join(cache, debianRelease, 'root', 'usr', 'src', `linux-headers-${debianRelease}`));
    assert.match(fs.readFileSync(path.join(tree, 'Makefile'), 'utf8'), new RegExp(`^include ${cache}/${debianRelease}/root/usr/src/linux-headers-`, 'm'));
    const ws = path.join(base, 'ws-headers');
    fs.mkdirSync(ws);
    fs.writeFileSync(path.join(ws, 'hypershield.testbed.json'), JSON.stringify({ name: 'tbuildh', backend: 'netns', model: { kernelHeaders: tree } }));
    const r = await buildModel(openTestbed(ws), project('kernel-fetched'), 'kernel', { kernelRelease: debianRelease });
    assert.ok(r.ok, r.log);
    assert.deepEqual(r.diagnostics, []);
    assert.deepEqual(r.kernel, { release: debianRelease, dir: tree, origin: 'testbed file' });
  });

  test('a broken user-space template yields gcc diagnostics at the right file, line and column', async () => {
    const dir = project('broken-user');
    const line = append(path.join(dir, 'user_space_model.c'), 'static int hs_broken(int v)\n{\n\treturn v + hs_missing_value;\n}');
    const r = await buildModel(openTestbed(workspace), dir, 'user');
    assert.equal(r.ok, false);
    assert.deepEqual(r.artifacts, []);
    assert.equal(r.buildId, undefined);
    const error = r.diagnostics.find((d) => d.severity === 'error')!;
    assert.deepEqual([error.file, error.line, error.column, error.source], [path.join(dir, 'user_space_model.c'), line + 2, 13, 'gcc']);
    assert.match(error.message, /'hs_missing_value' undeclared/);
  });

  test('a broken eBPF template yields clang diagnostics with the macro note', async () => {
    const dir = project('broken-ebpf');
    const line = append(path.join(dir, 'ebpf_model.c'), '#define HS_BAD(x) ((x) + hs_missing_offset)\nstatic __always_inline int hs_bad(int v)\n{\n\treturn HS_BAD(v);\n}');
    const r = await buildModel(openTestbed(workspace), dir, 'ebpf');
    assert.equal(r.ok, false);
    const error = r.diagnostics.find((d) => d.severity === 'error')!;
    assert.deepEqual([error.file, error.line, error.column, error.source], [path.join(dir, 'ebpf_model.c'), line + 3, 9, 'clang']);
    assert.deepEqual(error.related.map((n) => [n.file, n.line, n.message]), [[path.join(dir, 'ebpf_model.c'), line, "expanded from macro 'HS_BAD'"]]);
  });

  test('an unchanged kernel model is not built again; an edited one or one whose artifact went is', async () => {
    const dir = project('stamp');
    const first = await buildModel(openTestbed(workspace), dir, 'kernel', { kernelRelease: debianRelease });
    assert.ok(first.ok, first.log);
    let output = '';
    const again = await buildModel(openTestbed(workspace), dir, 'kernel', { kernelRelease: debianRelease, onOutput: (c) => { output += c; } });
    assert.ok(again.ok);
    assert.equal(output, '', 'make did not run');
    assert.deepEqual([again.buildId, again.sourceHash, again.artifacts, again.diagnostics, again.log], [first.buildId, first.sourceHash, first.artifacts, first.diagnostics, first.log]);

    const source = path.join(dir, 'kernel_space.c');
    append(source, 'MODULE_INFO(hs_stamp_test, "1");');
    const edited = await buildModel(openTestbed(workspace), dir, 'kernel', { kernelRelease: debianRelease, onOutput: (c) => { output += c; } });
    assert.ok(edited.ok, edited.log);
    assert.notEqual(edited.buildId, first.buildId, 'the edit was built');
    assert.match(execFileSync('modinfo', ['-F', 'hs_stamp_test', edited.artifacts[0]], { encoding: 'utf8' }), /^1$/m);

    // The artifact went (e.g. `make clean`): built again.
    fs.rmSync(edited.artifacts[0]);
    const said: string[] = [];
    const rebuilt = await buildModel(openTestbed(workspace), dir, 'kernel', { kernelRelease: debianRelease, progress: { report: (m) => said.push(m) } });
    assert.ok(rebuilt.ok, rebuilt.log);
    assert.ok(said.some((m) => m.startsWith('Building the kernel model')), said.join('\n'));
    assert.equal(rebuilt.buildId, fileSha256(rebuilt.artifacts[0]));
  });

  test('a broken kernel template yields gcc and modpost diagnostics at the right lines', async () => {
    const dir = project('broken-kernel');
    const source = path.join(dir, 'kernel_space.c');
    const line = append(source, 'static int hs_broken_helper(int v)\n{\n\treturn v + hs_missing_field;\n}');
    const compile = await buildModel(openTestbed(workspace), dir, 'kernel', { kernelRelease: debianRelease });
    assert.equal(compile.ok, false);
    const error = compile.diagnostics.find((d) => d.severity === 'error')!;
    assert.deepEqual([error.file, error.line, error.column, error.source], [source, line + 2, 13, 'gcc']);

    const fixed = fs.readFileSync(source, 'utf8').replace('return v + hs_missing_field;', 'return v;');
    fs.writeFileSync(source, fixed);
    const use = append(source, 'extern int hs_not_exported_anywhere(int v);\nint hs_calls_missing(void)\n{\n\treturn hs_not_exported_anywhere(1);\n}\nEXPORT_SYMBOL(hs_calls_missing);');
    const link = await buildModel(openTestbed(workspace), dir, 'kernel', { kernelRelease: debianRelease });
    assert.equal(link.ok, false);
    const undef = link.diagnostics.find((d) => d.source === 'modpost' && d.severity === 'error')!;
    assert.equal(undef.message, '"hs_not_exported_anywhere" [kernel_space.ko] undefined!');
    // modpost gives no line: the first use outside comments and extern declarations (the call) is shown.
    assert.deepEqual([undef.file, undef.line, undef.column], [source, use + 3, 9]);
  });

  test('a build can be cancelled', async () => {
    const dir = project('cancel');
    const controller = new AbortController();
    const started = Date.now();
    const build = buildModel(openTestbed(workspace), dir, 'kernel', { kernelRelease: debianRelease, signal: controller.signal, onOutput: () => controller.abort() });
    await assert.rejects(build, { name: 'AbortError' });
    assert.ok(Date.now() - started < 5000);
  });

  test('what cannot build says why and what to do', async () => {
    const backend = openTestbed(workspace);
    await assert.rejects(buildModel(backend, base, 'user'), /is not a model project \(it has no Makefile\); create one with `hypershield new/);
    await assert.rejects(buildModel(backend, project('no-testbed'), 'kernel'),
      /Cannot determine the kernel release of the model host model \(netns hs-tbuild-model\).*Bring the testbed up \(`hypershield up`\), or name the release to build for with --kernel-release REL/s);
  });

  test('the CLI creates a project, and refuses a folder that is not empty', () => {
    const dir = path.join(base, 'cli-new');
    const created = spawnSync(CLI[0], [CLI[1], 'new', dir, '--placement', 'user'], { encoding: 'utf8' });
    assert.equal(created.status, 0, created.stderr);
    assert.match(created.stdout, new RegExp(`^Created ${dir}: Makefile, README\\.md, user_space_model\\.c, packet_queue\\.c, packet_queue\\.h`));
    const again = spawnSync(CLI[0], [CLI[1], 'new', dir], { encoding: 'utf8' });
    assert.equal(again.status, 1);
    assert.match(again.stderr, /the folder is not empty \(.*\)\. Choose a new or empty folder\./);
  });

  test('the CLI builds every placement of a project and exits 1 with diagnostics when one fails', () => {
    const dir = project('cli');
    const ok = spawnSync(CLI[0], [CLI[1], '-w', workspace, 'build', dir, '--placement', 'user'], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^Built the user model: .*build\/user_space_model \(build [0-9a-f]{12}, source [0-9a-f]{12}, 0 warnings/m);
    const line = append(path.join(dir, 'ebpf_model.c'), 'int hs_bad = hs_missing;');
    const bad = spawnSync(CLI[0], [CLI[1], '-w', workspace, 'build', dir, '--json', '--kernel-release', debianRelease], { encoding: 'utf8' });
    assert.equal(bad.status, 1, bad.stderr);
    const results = JSON.parse(bad.stdout) as Array<{ placement: string; ok: boolean; diagnostics: Array<{ file: string; line: number }> }>;
    assert.deepEqual(results.map((r) => [r.placement, r.ok]), [['user', true], ['ebpf', false], ['kernel', true]]);
    assert.deepEqual(results[1].diagnostics.map((d) => [d.file, d.line]), [[path.join(dir, 'ebpf_model.c'), line]]);
  });
});
