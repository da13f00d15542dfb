import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { filesFor, scaffoldModel } from '../../extension/core/model/scaffold';
import { COMMON_FILES, MODEL_PLACEMENTS, PLACEMENT_FILES, templateFiles, templatesDir } from '../../extension/core/model/templates';
import { modelSources, sourceHash } from '../../extension/core/model/source-hash';

const root = path.join(__dirname, '..', '..');
const temp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'hs-scaffold-'));

describe('templates and scaffolding', () => {
  test('the templates are found from the bundle (dist/) and from the sources (tsx)', () => {
    const expected = path.join(root, 'native-templates', 'model');
    assert.equal(templatesDir(path.join(root, 'dist')), expected);
    assert.equal(templatesDir(path.join(root, 'extension', 'core', 'model')), expected);
    assert.equal(templatesDir(), expected);
    assert.throws(() => templatesDir('/'), /model templates .* were not found above \/; the HyperShield installation is incomplete/);
  });

  const claimed = new Set([...COMMON_FILES, ...MODEL_PLACEMENTS.flatMap((p) => PLACEMENT_FILES[p])]);
  const unclaimed = () => templateFiles(templatesDir()).filter((f) => !claimed.has(f));

  test('every template source belongs to a placement, and every listed file exists', () => {
    for (const f of claimed) assert.ok(fs.existsSync(path.join(templatesDir(), f)), `${f} is in the templates`);
    assert.deepEqual(modelSources(templatesDir()).filter((f) => !claimed.has(f)), [], 'no C source, header, Makefile or Kbuild is left out of every placement');
  });

  test('a placement gets only its files, the Makefile, the README and the editor settings', () => {
    for (const placement of MODEL_PLACEMENTS) {
      const dir = path.join(temp(), 'model');
      try {
        const r = scaffoldModel(dir, placement);
        assert.deepEqual(fs.readdirSync(dir).sort(), [...COMMON_FILES, ...PLACEMENT_FILES[placement], ...unclaimed()].sort());
        assert.deepEqual(r.files, filesFor(placement));
        for (const f of r.files) assert.deepEqual(fs.readFileSync(path.join(dir, f)), fs.readFileSync(path.join(templatesDir(), f)));
        assert.equal(fs.statSync(dir).mode & 0o777, 0o755);
      } finally {
        fs.rmSync(path.dirname(dir), { recursive: true, force: true });
      }
    }
  });

  test('"all" copies every placement; an existing empty folder is fine; missing parents are created', () => {
    const base = temp();
    try {
      const empty = path.join(base, 'empty');
      fs.mkdirSync(empty);
      scaffoldModel(empty, 'all');
      assert.deepEqual(fs.readdirSync(empty).sort(), filesFor('all').sort());
      const nested = path.join(base, 'a', 'b', 'model');
      scaffoldModel(nested, 'user');
      assert.ok(fs.existsSync(path.join(nested, 'user_space_model.c')));
      assert.deepEqual(fs.readdirSync(base).sort(), ['a', 'empty'], 'no staging folder is left');
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });

  test('build outputs kbuild leaves in the template folder are never copied', () => {
    const base = temp();
    try {
      const from = path.join(base, 'templates');
      fs.mkdirSync(path.join(from, 'build'), { recursive: true });
      for (const f of [...COMMON_FILES, ...PLACEMENT_FILES.kernel, '.clangd', 'kernel_space.o', 'kernel_space.ko', 'kernel_space.mod', 'kernel_space.mod.c',
        '.kernel_space.o.cmd', 'Module.symvers', 'modules.order', 'compile_commands.json']) fs.writeFileSync(path.join(from, f), f);
      scaffoldModel(path.join(base, 'model'), 'kernel', from);
      assert.deepEqual(fs.readdirSync(path.join(base, 'model')).sort(), ['.clangd', 'Kbuild', 'Makefile', 'README.md', 'kernel_space.c']);
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });

  test('a non-empty folder is refused and left untouched; a failed copy creates nothing', () => {
    const base = temp();
    try {
      const dir = path.join(base, 'model');
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
      assert.throws(() => scaffoldModel(dir, 'user'), /not empty \(notes\.txt\)\. Choose a new or empty folder/);
      assert.deepEqual(fs.readdirSync(dir), ['notes.txt']);
      fs.writeFileSync(path.join(base, 'file'), '');
      assert.throws(() => scaffoldModel(path.join(base, 'file'), 'user'), /it is a file/);
      // Templates that lack a file: nothing is created, not even the missing parents.
      const broken = path.join(base, 'broken-templates');
      fs.mkdirSync(broken);
      fs.writeFileSync(path.join(broken, 'Makefile'), '');
      assert.throws(() => scaffoldModel(path.join(base, 'new', 'model'), 'ebpf', broken), /lack README\.md, ebpf_model\.c/);
      assert.ok(!fs.existsSync(path.join(base, 'new')));
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });

  test('the source hash covers sources in a stable order and ignores build outputs', () => {
    const base = temp();
    try {
      const a = path.join(base, 'a');
      const b = path.join(base, 'b');
      scaffoldModel(a, 'all');
      scaffoldModel(b, 'all');
      assert.equal(sourceHash(a), sourceHash(b));
      assert.match(sourceHash(a), /^[0-9a-f]{64}$/);
      fs.mkdirSync(path.join(a, 'build'));
      fs.writeFileSync(path.join(a, 'build', 'x.c'), 'generated');
      fs.writeFileSync(path.join(a, 'kernel_space.mod.c'), 'generated by kbuild');
      fs.writeFileSync(path.join(a, 'notes.txt'), 'not a source');
      assert.equal(sourceHash(a), sourceHash(b));
      fs.appendFileSync(path.join(b, 'ebpf_model.c'), '\n');
      assert.notEqual(sourceHash(a), sourceHash(b));
      fs.mkdirSync(path.join(base, 'empty'));
      assert.throws(() => sourceHash(path.join(base, 'empty')), /holds no model sources .*; create a project with `hypershield new/);
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });
});
