import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Diagnostic, DiagnosticSource } from '../../extension/core/model/diagnostics/diagnostic';
import { formatDiagnostic } from '../../extension/core/model/diagnostics/diagnostic';
import { parseGccText } from '../../extension/core/model/diagnostics/gcc-text';
import { parseGccJson } from '../../extension/core/model/diagnostics/gcc-json';
import { parseKbuild, parseMakeFailure } from '../../extension/core/model/diagnostics/kbuild';
import { focusOnProject, locateSymbol, parseBuildOutput, type Toolchain } from '../../extension/core/model/diagnostics/build-output';
import { characterColumn } from '../../extension/core/model/diagnostics/columns';
import { mapPath, relativizeMessage, type PathMapping } from '../../extension/core/model/diagnostics/path-map';

// Real output of broken template copies, captured by test/fixtures/build/capture-core-cases.sh.
const FIXTURES = path.join(__dirname, '..', 'fixtures', 'build');
const MODEL_DIR = '/workspace/model';

interface Expectation {
  toolchain: Toolchain;
  diagnostics: Diagnostic[];
  makeFailure: Diagnostic | null;
}

function loadCase(name: string): { log: string; mapping: PathMapping; expect: Expectation } {
  const meta = Object.fromEntries(fs.readFileSync(path.join(FIXTURES, `core-${name}.meta`), 'utf8').split('\n').filter(Boolean)
    .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]));
  const expect = JSON.parse(fs.readFileSync(path.join(FIXTURES, `core-${name}.expect.json`), 'utf8')) as Expectation;
  // The expectations name project files relative to the project.
  const inProject = (f: string) => (path.isAbsolute(f) ? f : path.join(MODEL_DIR, f));
  const absolute = (d: Diagnostic): Diagnostic => ({ ...d, file: inProject(d.file), related: d.related.map((r) => ({ ...r, file: inProject(r.file) })) });
  expect.diagnostics = expect.diagnostics.map(absolute);
  if (expect.makeFailure) expect.makeFailure = absolute(expect.makeFailure);
  return {
    log: fs.readFileSync(path.join(FIXTURES, `core-${name}.log`), 'utf8'),
    // The build ran in a copy elsewhere (like a remote build): its paths must come back as the project's.
    mapping: { modelDir: MODEL_DIR, buildDir: meta.dir, cwd: expect.toolchain === 'kbuild' ? meta.kdir : meta.dir },
    expect,
  };
}

const CASES = fs.readdirSync(FIXTURES).filter((f) => /^core-.*\.expect\.json$/.test(f)).map((f) => f.slice(5, -12)).sort();

/** One location in the template engineer's expectations (test/fixtures/build/tpl-*.expect.json). */
interface TemplateLocation {
  path: string;
  line: number | null;
  column: number | null;
  charColumn?: number;
  severity: 'error' | 'warning' | 'note';
  messageStart: string;
  code?: string;
  symbol?: string;
  related?: TemplateLocation[];
}
interface TemplateCase {
  command: string;
  cwd: string;
  diagnostics: TemplateLocation[];
  makeFailure: { target: string; message: string };
}

describe('build output parsers on the template cases captured with the templates (tpl-*)', () => {
  const names = fs.readdirSync(FIXTURES).filter((f) => /^tpl-.*\.expect\.json$/.test(f)).sort();

  test('the template cases are here', () => {
    assert.deepEqual(names, ['tpl-ebpf-clang.expect.json', 'tpl-kernel-macro-json.expect.json', 'tpl-kernel-macro-text.expect.json', 'tpl-kernel-modpost.expect.json', 'tpl-user-gcc.expect.json']);
  });

  for (const name of names) {
    test(name.replace('.expect.json', ''), () => {
      const c = JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8')) as TemplateCase;
      const log = fs.readFileSync(path.join(FIXTURES, name.replace('.expect.json', '.log')), 'utf8');
      const toolchain: Toolchain = c.command.startsWith('make user') ? 'gcc' : c.command.startsWith('make ebpf') ? 'clang' : 'kbuild';
      const json = c.command.includes('-fdiagnostics-format=json');
      const mapping: PathMapping = { modelDir: MODEL_DIR, buildDir: c.cwd, cwd: c.cwd };
      const parsed = toolchain === 'kbuild'
        ? [...parseGccJson(log, mapping), ...parseGccText(log, mapping, 'gcc'), ...parseKbuild(log, mapping)]
        : parseGccText(log, mapping, toolchain);
      // Text columns are as printed (gcc: display cells, clang: bytes); the JSON parser takes byte columns.
      const column = (e: TemplateLocation) => (json ? e.charColumn : e.column);
      const check = (got: { file: string; line: number; column: number; message: string }, want: TemplateLocation, what: string) => {
        assert.equal(got.file, mapPath(want.path, mapping), `${what}: file`);
        assert.equal(got.line, want.line, `${what}: line`);
        assert.equal(got.column, column(want), `${what}: column`);
        assert.ok(got.message.startsWith(want.messageStart), `${what}: "${got.message}" starts with "${want.messageStart}"`);
        if (want.code) assert.ok(got.message.endsWith(`[${want.code}]`), `${what}: names ${want.code}`);
      };
      assert.equal(parsed.length, c.diagnostics.length, parsed.map((d) => formatDiagnostic(d)).join('\n'));
      c.diagnostics.forEach((want, i) => {
        const got = parsed[i];
        assert.equal(got.severity, want.severity === 'note' ? 'info' : want.severity);
        if (want.symbol) {
          // modpost names the module; the diagnostic goes to its source, where the build then finds the symbol.
          assert.equal(got.symbol, want.symbol);
          assert.equal(got.file, path.join(MODEL_DIR, path.basename(want.path).replace(/\.ko$/, '.c')));
          assert.equal(got.message, relativizeMessage(want.messageStart.replace(/^modpost: /, ''), mapping));
          return;
        }
        check(got, want, `diagnostic ${i}`);
        assert.equal(got.related.length, (want.related ?? []).length, `diagnostic ${i}: notes`);
        (want.related ?? []).forEach((r, j) => check(got.related[j], r, `diagnostic ${i} note ${j}`));
      });
      const failure = parseMakeFailure(log, mapping, toolchain === 'kbuild' ? 'Kbuild' : 'Makefile', toolchain === 'kbuild' ? 'kbuild' : toolchain)!;
      assert.equal(failure.message, relativizeMessage(`make: ${c.makeFailure.message} while building ${c.makeFailure.target}`, mapping));
    });
  }
});

describe('build output parsers on real captured output', () => {
  test('every captured case is here', () => {
    assert.deepEqual(CASES, ['ebpf-clang', 'kernel-json', 'kernel-kbuild', 'kernel-macro-json', 'kernel-macro-text', 'kernel-modpost', 'kernel-norule', 'kernel-text', 'user-gcc', 'user-link']);
  });

  for (const name of CASES) {
    test(name, () => {
      const { log, mapping, expect } = loadCase(name);
      const parsed = expect.toolchain === 'kbuild'
        ? [...parseGccJson(log, mapping), ...parseGccText(log, mapping, 'gcc'), ...parseKbuild(log, mapping)]
        : parseGccText(log, mapping, expect.toolchain);
      assert.deepEqual(parsed, expect.diagnostics);
      const source: DiagnosticSource = expect.toolchain === 'kbuild' ? 'kbuild' : expect.toolchain;
      assert.deepEqual(parseMakeFailure(log, mapping, expect.toolchain === 'kbuild' ? 'Kbuild' : 'Makefile', source) ?? null, expect.makeFailure);
    });
  }

  test('gcc text: macro expansion notes and the include chain are related locations of the error', () => {
    const { log, mapping } = loadCase('user-gcc');
    const [header, macro] = parseGccText(log, mapping, 'gcc');
    assert.equal(header.file, path.join(MODEL_DIR, 'packet_queue.h'));
    assert.deepEqual(header.related[0], { file: path.join(MODEL_DIR, 'user_space_model.c'), line: 51, column: 1, message: 'included from here' });
    assert.deepEqual(macro.related, [{ file: path.join(MODEL_DIR, 'user_space_model.c'), line: 1065, column: 16, message: "in expansion of macro 'HS_BROKEN_LIMIT'" }]);
  });

  test('an error gcc prints inside a kernel header is shown at the project line whose macro led there', () => {
    const { log, mapping } = loadCase('kernel-macro-text');
    const focused = parseBuildOutput(log, mapping, 'kbuild', false, 'kbuild');
    assert.deepEqual(focused.map((d) => [path.relative(MODEL_DIR, d.file), d.line, d.severity]), [['kernel_space.c', 673, 'error'], ['kernel_space.c', 676, 'error']]);
    assert.match(focused[1].related[0].file, /compiler_types\.h$/, 'the header location is kept as a note');
    assert.match(focused[1].related[0].message, /BUILD_BUG_ON failed/);
    // JSON diagnostics (what builds use) already point there.
    const json = loadCase('kernel-macro-json');
    assert.deepEqual(parseBuildOutput(json.log, json.mapping, 'kbuild', false, 'kbuild').map((d) => [path.relative(MODEL_DIR, d.file), d.line]), [['kernel_space.c', 673], ['kernel_space.c', 676]]);
  });

  test('make\'s failure line is reported only when no compiler or modpost message explains a failed build', () => {
    const norule = loadCase('kernel-norule');
    const only = parseBuildOutput(norule.log, norule.mapping, 'kbuild', false, 'kbuild');
    assert.deepEqual(only.map((d) => [path.relative(MODEL_DIR, d.file), d.severity, d.source, d.message]),
      [['Kbuild', 'error', 'kbuild', "make: No rule to make target 'kernel_spaec.o', needed by '.'"]]);
    const modpost = loadCase('kernel-modpost');
    assert.ok(parseBuildOutput(modpost.log, modpost.mapping, 'kbuild', false, 'kbuild').every((d) => d.source === 'modpost'));
  });

  test('modpost names a symbol without a line: the build points at its first use in the project', () => {
    const { log, mapping } = loadCase('kernel-modpost');
    const undefinedSymbol = parseKbuild(log, mapping).find((d) => d.severity === 'error')!;
    assert.equal(undefinedSymbol.symbol, 'hs_not_exported_anywhere');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-locate-'));
    try {
      const source = path.join(dir, 'kernel_space.c');
      fs.writeFileSync(source, '/* hs_not_exported_anywhere in a comment */\nextern int hs_not_exported_anywhere(int v);\n\treturn hs_not_exported_anywhere(1);\n');
      const located = locateSymbol({ ...undefinedSymbol, file: source }, dir);
      assert.deepEqual([located.line, located.column], [3, 9], 'the use, not the comment or the extern declaration');
      fs.writeFileSync(source, 'extern int hs_not_exported_anywhere(int v);\n');
      assert.deepEqual([locateSymbol({ ...undefinedSymbol, file: source }, dir).line], [1], 'only declared: the declaration');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('gcc text columns count display cells; editors get character columns', () => {
    // "\treturn v + hs_missing_field;" — gcc prints column 20 (the tab is 8 cells), the 13th character.
    assert.equal(characterColumn('\treturn v + hs_missing_field;', 20), 13);
    assert.equal(characterColumn('  \tx', 9), 4);
    assert.equal(characterColumn('no tabs', 4), 4);
    const { log, mapping } = loadCase('kernel-json');
    const viaJson = parseGccJson(log, mapping).find((d) => /hs_missing_field/.test(d.message))!;
    assert.deepEqual([viaJson.line, viaJson.column], [676, 13], 'the JSON form gives byte columns directly');
  });

  test('paths: relative ones resolve against the compiler\'s directory; outside the project they stay as printed', () => {
    const m: PathMapping = { modelDir: '/home/me/model', buildDir: '/var/tmp/hypershield/tb/build/model', cwd: '/var/tmp/hypershield/tb/build/model' };
    assert.equal(mapPath('user_space_model.c', m), '/home/me/model/user_space_model.c');
    assert.equal(mapPath('/var/tmp/hypershield/tb/build/model/sub/x.h', m), '/home/me/model/sub/x.h');
    assert.equal(mapPath('/usr/include/stdio.h', m), '/usr/include/stdio.h');
    assert.equal(relativizeMessage('"sym" [/var/tmp/hypershield/tb/build/model/kernel_space.ko] undefined!', m), '"sym" [kernel_space.ko] undefined!');
  });

  test('formatDiagnostic prints the compiler form with notes', () => {
    const { log, mapping } = loadCase('ebpf-clang');
    assert.equal(formatDiagnostic(parseGccText(log, mapping, 'clang')[0]),
      `${MODEL_DIR}/ebpf_model.c:429:9: error: use of undeclared identifier 'hs_missing_offset' [clang]\n` +
      `  ${MODEL_DIR}/ebpf_model.c:426:36: note: expanded from macro 'HS_BROKEN_OFFSET'`);
  });

  test('a message outside the project with no note inside it stays where the compiler put it', () => {
    const d: Diagnostic = { file: '/usr/include/x.h', line: 1, column: 1, severity: 'error', message: 'm', source: 'gcc', related: [] };
    assert.equal(focusOnProject(d, MODEL_DIR), d);
  });
});
