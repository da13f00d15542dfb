import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadTestbed, parseTestbed, recordedTestbed, TestbedFileError } from '../../extension/core/testbed/load';
import { StateStore } from '../../extension/core/testbed/state';
import { addressPlan } from '../../extension/core/testbed/testbed';

test('no file: the built-in namespace testbed on the benchmarking range', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-tb-'));
  const tb = loadTestbed(dir);
  assert.equal(tb.backend, 'netns');
  assert.equal(tb.source, 'built-in default');
  assert.deepEqual(tb.subnets, { client: '198.18.1.0/24', server: '198.18.2.0/24', direct: '198.18.3.0/24' });
  fs.rmSync(dir, { recursive: true });
});

test('a valid file fills in defaults', () => {
  const tb = parseTestbed('{ "name": "lab", "backend": "netns", "mode": "direct", "subnets": { "client": "198.19.1.0/24" } }', 'x.json');
  assert.equal(tb.mode, 'direct');
  assert.equal(tb.subnets.client, '198.19.1.0/24');
  assert.equal(tb.subnets.server, '198.18.2.0/24');
  assert.equal(addressPlan(tb).clientOnClientNet, '198.19.1.2');
});

test('errors name the JSON path and the line, and say how to fix', () => {
  const text = '{\n  "name": "lab",\n  "backend": "vmware",\n  "subnets": {\n    "client": "10.0.0.0/8"\n  },\n  "hostz": {}\n}\n';
  const err = (() => { try { parseTestbed(text, 'tb.json'); } catch (e) { return e; } })();
  assert.ok(err instanceof TestbedFileError);
  const byPath = Object.fromEntries(err.problems.map((p) => [p.jsonPath, p]));
  assert.equal(byPath['/backend'].line, 3);
  assert.match(byPath['/backend'].message, /"netns", "docker", "qemu", "ssh"/);
  assert.equal(byPath['/subnets/client'].line, 5);
  assert.equal(byPath['/hostz'].line, 7);
  assert.match(byPath['/hostz'].message, /unknown property/);
  // The user's file once, each problem at its line; not the schema inside the extension, and never "delete it".
  assert.equal(err.message.split('tb.json').length - 1, 1);
  assert.match(err.message, /line 3, column \d+: \/backend/);
  assert.doesNotMatch(err.message, /schema|delete/i);
});

test('JSON syntax errors carry a line too', () => {
  assert.throws(() => parseTestbed('{\n  "name": "lab",,\n}', 'tb.json'), /line 2, column \d+: \(document\): JSON syntax/);
});

test('overlapping subnets are refused', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-tb-'));
  fs.writeFileSync(path.join(dir, 'hypershield.testbed.json'), JSON.stringify({ name: 'x', backend: 'netns', subnets: { client: '198.18.2.0/24' } }));
  assert.throws(() => loadTestbed(dir), /must all differ/);
  fs.rmSync(dir, { recursive: true });
});

test('a broken file while a testbed is up: the state names the testbed to show and bring down', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-tb-'));
  const file = path.join(dir, 'hypershield.testbed.json');
  fs.writeFileSync(file, '{ "name": "pol-rec", "backend": "netns", "mode": "fast" }\n');
  assert.throws(() => loadTestbed(dir), TestbedFileError);
  assert.equal(recordedTestbed(dir), undefined, 'nothing recorded: nothing to fall back to');
  new StateStore(dir, 'pol-other').write({ name: 'pol-other', backend: 'netns', mode: 'direct', phase: 'up', createdAt: '2026-11-30T00:00:00Z', objects: [] });
  new StateStore(dir, 'pol-rec').write({ name: 'pol-rec', backend: 'netns', mode: 'direct', phase: 'up', createdAt: '2026-11-30T00:00:00Z', objects: [] });
  const tb = recordedTestbed(dir);
  assert.equal(tb?.name, 'pol-rec', 'the name still in the broken file picks its state');
  assert.equal(tb?.mode, 'direct', 'the mode is the recorded one');
  assert.match(tb?.source ?? '', /state\/pol-rec\.json/);
  // No usable name (not even JSON): the only state file there is.
  fs.writeFileSync(file, '{ "name": ');
  assert.equal(recordedTestbed(dir), undefined, 'two state files and no name: no guess');
  fs.rmSync(path.join(dir, '.hypershield', 'state', 'pol-other.json'));
  assert.equal(recordedTestbed(dir)?.name, 'pol-rec');
  fs.rmSync(dir, { recursive: true });
});
