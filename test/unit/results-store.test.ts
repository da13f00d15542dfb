import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ResultsStore } from '../../extension/core/results/store';
import { SCHEMA_VERSION, type RunFile } from '../../extension/core/results/run-file';
import { compareTable, toCsv } from '../../extension/core/results/table';

function skeleton(startedAt: string, pid?: number): Omit<RunFile, 'id'> {
  return {
    schemaVersion: SCHEMA_VERSION, status: 'running', pid,
    metadata: {
      tool: { name: 'hypershield', version: '0.1.0' }, testbed: { name: 't', backend: 'netns' }, hosts: [], emulated: false, models: [],
      startedAt, plan: { benchmarks: ['ping'], modes: ['direct'], placements: ['none'], repetitions: 1, warmup: 0, durationS: 1 },
    } as unknown as RunFile['metadata'],
    results: [], summary: [],
  };
}

test('runs get unique files, are listed newest first, and a dead writer means incomplete', () => {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-store-'));
  const store = new ResultsStore(ws);
  const a = store.create(skeleton('2026-01-01T00:00:00Z', process.pid));
  const b = store.create(skeleton('2026-02-01T00:00:00Z', 2 ** 22 + 12345));
  assert.notEqual(a.id, b.id);
  const { runs } = store.list();
  assert.deepEqual(runs.map((r) => r.id), [b.id, a.id]);
  assert.equal(runs[0].run.status, 'incomplete');
  assert.match(runs[0].run.reason!, /ended without finishing/);
  assert.equal(runs[1].run.status, 'running');
  store.save({ ...a, status: 'complete', pid: undefined });
  assert.equal(store.read(a.id).status, 'complete');
  assert.deepEqual(fs.readdirSync(store.dir).filter((f) => f.endsWith('.tmp')), [], 'no temp files left');
  assert.throws(() => store.read('nope'), /No run "nope"/);
  fs.rmSync(ws, { recursive: true });
});

test('a run file that does not match schemas/run.schema.json is refused with its problems, and listing skips it', () => {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-store-'));
  const store = new ResultsStore(ws);
  const good = store.create(skeleton('2026-01-01T00:00:00Z'));
  const bad = { ...good, id: 'bad', status: 'done', results: [{ benchmark: 'ping', mode: 'sideways', placement: 'none', repetition: 1.5, startedAt: '', durationMs: 1, raw: '', metrics: { rttAvg: { value: '0.1', unit: 'ms', better: 'lower' } } }] };
  fs.writeFileSync(store.fileOf('bad'), JSON.stringify(bad));
  assert.throws(() => store.read('bad'), (err: Error) => {
    assert.match(err.message, /bad\.json is not a valid run file \(schemas\/run\.schema\.json\):/);
    assert.match(err.message, /\/status must be equal to one of the allowed values: "running", "complete", "incomplete", "failed" \(got "done"\)/);
    assert.match(err.message, /\/results\/0\/mode must be equal to one of the allowed values: "direct", "model" \(got "sideways"\)/);
    assert.match(err.message, /\/results\/0\/repetition must be integer \(got 1\.5\)/);
    assert.match(err.message, /\/results\/0\/metrics\/rttAvg\/value must be number \(got "0\.1"\)/);
    return true;
  });
  const { runs, skipped } = store.list();
  assert.deepEqual(runs.map((r) => r.id), [good.id]);
  assert.equal(skipped.length, 1);
  fs.rmSync(ws, { recursive: true });
});

test('CSV: one row per metric, quoted where needed', () => {
  const run = {
    id: 'r1', results: [
      { benchmark: 'iperf3', mode: 'model', placement: 'none', repetition: 1, startedAt: 't', durationMs: 1, raw: '', metrics: { throughput: { value: 9.5, unit: 'Gbit/s', better: 'higher' } } },
      { benchmark: 'iperf3', mode: 'direct', placement: 'none', repetition: 1, startedAt: 't', durationMs: 1, raw: '', metrics: {}, error: 'refused, "really"' },
    ],
  } as unknown as RunFile;
  assert.equal(toCsv(run), 'run,benchmark,mode,placement,repetition,started_at,metric,value,unit,error\n' +
    'r1,iperf3,model,none,1,t,throughput,9.5,Gbit/s,\n' +
    'r1,iperf3,direct,none,1,t,,,,"refused, ""really"""\n');
});

test('compare: medians of two runs side by side with their ratio', () => {
  const entry = (median: number) => ({ benchmark: 'iperf3', placement: 'none', mode: 'model', metric: 'throughput', unit: 'Gbit/s', better: 'higher', stats: { median } });
  const a = { id: 'a', summary: [entry(10)] } as unknown as RunFile;
  const b = { id: 'b', summary: [entry(8)] } as unknown as RunFile;
  const lines = compareTable(a, b).split('\n');
  assert.match(lines[0], /^benchmark\s+placement\s+mode\s+metric\s+a\s+b\s+b\/a$/);
  assert.match(lines[1], /^iperf3\s+none\s+model\s+throughput\s+10\.00 Gbit\/s\s+8\.00 Gbit\/s\s+0\.800$/);
  assert.match(compareTable(a, { id: 'c', summary: [] } as unknown as RunFile), /share no benchmark/);
});
