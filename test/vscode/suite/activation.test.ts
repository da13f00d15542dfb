import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { api, EXTENSION_ID } from './helpers';

describe('activation', () => {
  it('activates in the workspace and returns its API', async () => {
    const a = await api();
    assert.ok(vscode.extensions.getExtension(EXTENSION_ID)?.isActive);
    // How long it took is a figure for scripts/bench-vscode.mjs, not a bound here: a loaded machine would flake it.
    assert.ok(Number.isFinite(a.activationMs) && a.activationMs > 0, `activationMs: ${a.activationMs}`);
  });

  it('registers every command the manifest contributes, from one registry', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const manifest = JSON.parse(fs.readFileSync(path.join(ext.extensionPath, 'package.json'), 'utf8')) as { contributes: { commands: Array<{ command: string }> } };
    const registered = new Set(await vscode.commands.getCommands(true));
    const contributed = manifest.contributes.commands.map((c) => c.command);
    assert.deepEqual(contributed.filter((c) => !registered.has(c)), []);
    assert.deepEqual([...(await api()).commands.ids].sort(), [...contributed].sort());
  });

  it('offers hypershield tasks (bench, and build once a model exists)', async () => {
    const tasks = await vscode.tasks.fetchTasks({ type: 'hypershield' });
    assert.ok(tasks.some((t) => t.definition.task === 'bench'), `tasks: ${tasks.map((t) => t.name).join(', ')}`);
  });
});
