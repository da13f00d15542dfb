// hypershield.model.json: a project laid out like the original framework (main.c at the top, a Makefile whose default
// target links ./user_space_model) builds once its manifest says so; `hypershield new` gives every project the
// templates' manifest; a broken manifest is refused, naming what is wrong.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Ajv from 'ajv';
import { openTestbed } from '../../extension/core/backends/open';
import { buildModel } from '../../extension/core/model/build';
import { MANIFEST_FILE } from '../../extension/core/model/manifest';
import { scaffoldModel } from '../../extension/core/model/scaffold';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-manifest-'));
const workspace = path.join(base, 'ws');

/** A project of one's own: ./user_space_model from main.c, by the Makefile's default target. */
function foreignProject(name: string): string {
  const dir = path.join(base, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'main.c'), '#include <stdio.h>\nint main(void) { puts("ready"); return 0; }\n');
  fs.writeFileSync(path.join(dir, 'Makefile'), 'user_space_model: main.c\n\t$(CC) -O2 -o $@ main.c\n');
  return dir;
}

describe('the model manifest', () => {
  before(() => {
    fs.mkdirSync(workspace);
    fs.writeFileSync(path.join(workspace, 'hypershield.testbed.json'), JSON.stringify({ name: 'tplmanifest', backend: 'netns' }));
  });
  after(() => fs.rmSync(base, { recursive: true, force: true }));

  test('`hypershield new` writes the templates\' manifest, valid against schemas/model.schema.json', () => {
    const dir = scaffoldModel(path.join(base, 'new'), 'user').dir;
    const manifest: unknown = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST_FILE), 'utf8'));
    const schema = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'schemas', 'model.schema.json'), 'utf8')) as object;
    const validate = new Ajv({ allErrors: true }).compile(schema);
    assert.ok(validate(manifest), JSON.stringify(validate.errors));
    assert.deepEqual((manifest as { placements: { user: unknown } }).placements.user, { build: ['make', 'user'], artifact: 'build/user_space_model' });
  });

  test('a project of one\'s own builds with the command and artifact its manifest names', async () => {
    const dir = foreignProject('own');
    const without = await buildModel(openTestbed(workspace), dir, 'user');
    assert.equal(without.ok, false, 'without a manifest it is built as the templates are (make user), which it cannot do');
    fs.writeFileSync(path.join(dir, MANIFEST_FILE), JSON.stringify({ placements: { user: { build: ['make'], artifact: 'user_space_model' } } }));
    const r = await buildModel(openTestbed(workspace), dir, 'user');
    assert.equal(r.ok, true, r.log);
    assert.deepEqual(r.artifacts, [path.join(dir, 'user_space_model')]);
    assert.ok(fs.statSync(r.artifacts[0]).mode & 0o100, 'the program was linked');
  });

  test('an artifact the build does not produce is an error at the manifest that names it', async () => {
    const dir = foreignProject('wrong-artifact');
    fs.writeFileSync(path.join(dir, MANIFEST_FILE), JSON.stringify({ placements: { user: { build: ['make'], artifact: 'build/model' } } }));
    const r = await buildModel(openTestbed(workspace), dir, 'user');
    assert.equal(r.ok, false);
    assert.deepEqual(r.diagnostics.map((d) => [d.file, d.severity, d.message]), [[path.join(dir, MANIFEST_FILE), 'error',
      '`make` succeeded but did not produce build/model: build it there, or name what the build produces as placements.user.artifact in hypershield.model.json.']]);
  });

  test('a manifest that is not valid, or lacks the placement, is refused before anything is built', async () => {
    const dir = foreignProject('broken');
    fs.writeFileSync(path.join(dir, MANIFEST_FILE), JSON.stringify({ placements: { user: { build: [], artifact: '/abs' } } }));
    await assert.rejects(buildModel(openTestbed(workspace), dir, 'user'),
      new RegExp(`${MANIFEST_FILE} is not a valid model manifest: /placements/user/build must NOT have fewer than 1 items; /placements/user/artifact must match pattern`));
    fs.writeFileSync(path.join(dir, MANIFEST_FILE), JSON.stringify({ placements: { user: { build: ['make'], artifact: 'user_space_model' } } }));
    await assert.rejects(buildModel(openTestbed(workspace), dir, 'ebpf'), /does not say how to build the ebpf placement: add "placements": \{"ebpf"/);
    assert.ok(!fs.existsSync(path.join(dir, 'user_space_model')), 'nothing was built');
  });
});
