// The results panel's message schema (compiled into both sides at build time by scripts/build.mjs): what a webview
// may send is accepted, anything else is refused; a real run passes as the extension sends it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Ajv from 'ajv';
import schema from '../../schemas/webview-messages.schema.json';
import { reportData } from '../../extension/core/results/report-data';
import { syntheticRun } from '../vscode/synthetic-run';

const ajv = new Ajv({ strictTuples: false, schemas: [schema] });
const check = (definition: string, x: unknown) => ajv.validate(`${schema.$id}#/definitions/${definition}`, x);
const PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

test('the messages a results webview sends are accepted', () => {
  for (const m of [
    { type: 'ready' },
    { type: 'rendered', ms: 120, pageMs: 300, charts: 6, deferred: 4, marks: { page: 1764556800000, scriptFetched: 1764556800150, started: 1764556800180, dataIn: 1764556800181, drawn: 1764556800300 } },
    { type: 'rendered', ms: 120, pageMs: 300, charts: 6, deferred: 4, marks: { page: 1764556800000, started: 1764556800180, dataIn: 1764556800181, drawn: 1764556800300 } },
    { type: 'view', view: { benchmark: 'iperf3', metric: 'throughput' } },
    { type: 'command', command: 'hypershield.results.export', args: ['20261130-232110-o0br', 'csv'] },
    { type: 'command', command: 'hypershield.results.exportImage', args: ['synthetic-a', 'overhead', PNG] },
    { type: 'command', command: 'hypershield.results.compare', args: [] },
    { type: 'command', command: 'hypershield.results.compare', args: ['synthetic-a'] },
    { type: 'error', message: 'CSP violation' },
    { type: 'openHotLine', placement: 'user', file: 'src/filter.c', line: 42 },
  ]) assert.ok(check('webviewMessage', m), `${JSON.stringify(m)}: ${ajv.errorsText()}`);
});

test('anything else from a webview is refused', () => {
  for (const m of [
    { type: 'command', command: 'hypershield.testbed.down', args: [] },
    { type: 'command', command: 'hypershield.results.export', args: ['../../etc', 'csv'] },
    { type: 'command', command: 'hypershield.results.export', args: ['run', 'html'] },
    { type: 'command', command: 'hypershield.results.export', args: ['run'] },
    { type: 'command', command: 'hypershield.results.exportImage', args: ['run', 'x', 'data:text/html,<script>'] },
    { type: 'command', command: 'hypershield.results.exportImage', args: ['run', '../x', PNG] },
    { type: 'command', command: 'hypershield.results.compare', args: ['a', 'b'] },
    { type: 'view', view: { benchmark: 3 } },
    { type: 'rendered', ms: '1' },
    { type: 'rendered', ms: 120, pageMs: 300, charts: 6, deferred: 4 },
    { type: 'rendered', ms: 120, pageMs: 300, charts: 6, deferred: 4, marks: { page: 1, started: 2, dataIn: 3, drawn: 4, other: 5 } },
    { type: 'ready', extra: true },
    { type: 'eval', code: '1' },
    { type: 'openHotLine', placement: 'none', file: 'src/filter.c', line: 42 },
    { type: 'openHotLine', placement: 'user', file: '', line: 42 },
    { type: 'openHotLine', placement: 'user', file: 'src/filter.c', line: 0 },
    { type: 'openHotLine', placement: 'user', file: 'src/filter.c', line: 4.5 },
    { type: 'openHotLine', placement: 'user', file: 'src/filter.c', line: 42, path: '/etc/passwd' },
    { type: 'openHotLine', placement: 'user', file: 'x'.repeat(4097), line: 1 },
    null,
    'ready',
  ]) assert.equal(check('webviewMessage', m), false, JSON.stringify(m));
});

test('a run as the extension sends it passes; a run missing what the views read does not', () => {
  const a = syntheticRun({ id: 'pol-a', benchmarks: 2, modes: ['direct', 'model'], placements: ['none', 'user'], repetitions: 3 });
  const b = syntheticRun({ id: 'pol-b', benchmarks: 1, modes: ['model'], placements: ['ebpf'], repetitions: 2 });
  assert.ok(check('hostMessage', { type: 'show', data: reportData(a, b), view: {} }), ajv.errorsText());
  const broken = reportData(a);
  delete (broken.run.results[0] as Partial<typeof broken.run.results[0]>).mode;
  assert.equal(check('hostMessage', { type: 'show', data: broken, view: {} }), false);
  assert.match(ajv.errorsText(), /results\/0 must have required property 'mode'/);
  const ab = reportData(syntheticRun({ id: 'pol-ab', benchmarks: 1, modes: ['direct', 'model'], placements: ['none'], repetitions: 2, arms: ['A', 'B'] }));
  assert.ok(check('hostMessage', { type: 'show', data: ab, view: {} }), ajv.errorsText());
  delete (ab.run.abComparison![0] as Partial<NonNullable<typeof ab.run.abComparison>[0]>).changePercent;
  assert.equal(check('hostMessage', { type: 'show', data: ab, view: {} }), false, 'an A/B change without its figure is refused before drawing');
});
