import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunFile } from '../../../extension/core/results/run-file';
import type { Rendered } from '../../../extension/vscode/panels/results-panel';
import { api, exec, processesIn, waitFor, workspaceFolder } from './helpers';

describe('benchmarks and results', () => {
  let run: RunFile;

  it('runs benchmarks on the testbed and lists the run first in the Runs view', async () => {
    run = await exec<RunFile>('hypershield.bench.run', { benchmarks: ['ping'], modes: ['direct', 'model'], repetitions: 2, warmup: 0, durationSeconds: 1 });
    assert.equal(run?.status, 'complete', `run ${run?.id}: ${run?.reason ?? ''}`);
    assert.equal(run.results.length, 4);
    const tree = (await api()).runsTree;
    const first = await waitFor('the run in the Runs view', () => {
      const nodes = tree.getChildren();
      return nodes[0]?.kind === 'run' && nodes[0].run.id === run.id ? nodes[0] : undefined;
    });
    const item = tree.getTreeItem(first);
    assert.equal(item.id, `run/${run.id}`);
    assert.equal(item.contextValue, 'run:complete');
    assert.match(String(item.description), /^ping none: direct [\d.]+ · model [\d.]+ ms/);
    const figures = tree.getChildren(first).map((n) => tree.getTreeItem(n).label);
    assert.deepEqual(figures, ['ping · none']);
  });

  it('draws the run in the results panel', async () => {
    const rendered = await (await api()).openResults(run.id);
    assert.ok(rendered.charts >= 1 && rendered.charts + rendered.deferred >= 2, `charts drawn: ${rendered.charts}, deferred: ${rendered.deferred}`);
  });

  it('compares two runs', async () => {
    const rendered = await exec<Rendered>('hypershield.results.compare', 'synthetic-a', 'synthetic-b');
    assert.ok(rendered.charts >= 1 && rendered.charts + rendered.deferred >= 3, `charts drawn: ${rendered.charts}, deferred: ${rendered.deferred}`);
  });

  it('exports a run as CSV and JSON', async () => {
    const dir = path.join(workspaceFolder(), '.hypershield', 'exports');
    const csv = await exec<string>('hypershield.results.export', run.id, 'csv', path.join(dir, 'run.csv'));
    const lines = fs.readFileSync(csv, 'utf8').trim().split('\n');
    assert.match(lines[0], /^run,benchmark,mode,placement,repetition/);
    assert.ok(lines.length > 4);
    const json = await exec<string>('hypershield.results.export', run.id, 'json', path.join(dir, 'run.json'));
    assert.equal((JSON.parse(fs.readFileSync(json, 'utf8')) as RunFile).id, run.id);
  });

  it('saves a chart image sent by the panel as a PNG file', async () => {
    const pixel = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
    const file = await exec<string>('hypershield.results.exportImage', run.id, 'overhead', `data:image/png;base64,${pixel}`, path.join(workspaceFolder(), '.hypershield', 'exports', 'chart.png'));
    assert.deepEqual(fs.readFileSync(file), Buffer.from(pixel, 'base64'));
  });

  it('rejects webview commands it does not allow, or with bad arguments', async () => {
    const registry = (await api()).commands;
    await assert.rejects(registry.runFromWebview('hypershield.testbed.down', []), /may not run/);
    await assert.rejects(registry.runFromWebview('hypershield.results.export', ['../../etc', 'csv']), /invalid arguments/);
    await assert.rejects(registry.runFromWebview('hypershield.results.exportImage', [run.id, 'x', 'data:text/html,<script>']), /invalid arguments/);
  });

  it('stops the processes on the hosts when a bench task is cancelled', async () => {
    const pending = exec<RunFile>('hypershield.bench.run', { benchmarks: ['iperf3'], modes: ['model'], repetitions: 1, warmup: 0, durationSeconds: 60 });
    await waitFor('iperf3 to run on the client', () => processesIn('client').includes('iperf3'), 30_000);
    const execution = vscode.tasks.taskExecutions.find((e) => e.task.definition.type === 'hypershield' && e.task.definition.task === 'bench');
    assert.ok(execution, 'the bench runs as a hypershield task');
    execution.terminate();
    const cancelled = await pending;
    assert.equal(cancelled?.status, 'incomplete');
    // Stopped before its first measurement: not kept, so the last real run keeps the Runs view and status bar.
    assert.equal(cancelled.results.length, 0);
    assert.ok(!fs.existsSync((await api()).workbench.store.fileOf(cancelled.id)), `${cancelled.id} was discarded`);
    const tree = (await api()).runsTree;
    await waitFor('the Runs view to drop the discarded run', () => { const first = tree.getChildren()[0]; return first?.kind === 'run' && first.run.id !== cancelled.id; });
    await waitFor('iperf3 to stop on client and server', () => !processesIn('client').includes('iperf3') && !processesIn('server').includes('iperf3'), 10_000);
  });

  it('deletes a run: its file, its Runs view entry and its open panel go', async () => {
    await (await api()).openResults(run.id);
    assert.equal(await exec('hypershield.results.delete', run.id, true), run.id);
    assert.ok(!fs.existsSync((await api()).workbench.store.fileOf(run.id)));
    const tree = (await api()).runsTree;
    await waitFor('the Runs view to drop the deleted run', () => !tree.getChildren().some((n) => n.kind === 'run' && n.run.id === run.id));
    await waitFor('its results panel to close', () => !vscode.window.tabGroups.all.flatMap((g) => g.tabs).some((t) => t.label === `Run ${run.id}`));
  });
});
