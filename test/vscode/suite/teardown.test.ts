import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { api, exec, TESTBED, waitFor, workspaceFolder } from './helpers';

describe('teardown', () => {
  it('brings the testbed down; the tree empties and the namespaces are gone', async () => {
    await exec('hypershield.testbed.down');
    assert.deepEqual(await (await api()).testbedTree.getChildren(), []);
    const namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    assert.doesNotMatch(namespaces, new RegExp(`hs-${TESTBED}-`));
  });

  it('"Run Benchmarks" on a testbed that is down says so before asking anything', async () => {
    await assert.rejects(exec('hypershield.bench.run'), /Testbed tvsc cannot run benchmarks: it is down\. Bring it up first\./);
  });

  it('shows testbed description errors at their line, and clears them when fixed', async () => {
    const file = path.join(workspaceFolder(), 'hypershield.testbed.json');
    const original = fs.readFileSync(file, 'utf8');
    const uri = vscode.Uri.file(file);
    try {
      fs.writeFileSync(file, original.replace('"backend": "netns"', '"backend": "bogus"'));
      const diags = await waitFor('testbed diagnostics', () => {
        const d = vscode.languages.getDiagnostics(uri);
        return d.length ? d : undefined;
      });
      assert.match(diags[0].message, /\/backend/);
      assert.equal(diags[0].range.start.line, original.split('\n').findIndex((l) => l.includes('"backend"')));
    } finally {
      fs.writeFileSync(file, original);
    }
    await waitFor('the diagnostics to clear', () => vscode.languages.getDiagnostics(uri).length === 0);
  });

  it('lists a problem once while the file is open in an editor, where VS Code\'s JSON support reports it', async () => {
    const file = path.join(workspaceFolder(), 'hypershield.testbed.json');
    const original = fs.readFileSync(file, 'utf8');
    const uri = vscode.Uri.file(file);
    const line = original.split('\n').findIndex((l) => l.includes('"backend"'));
    try {
      fs.writeFileSync(file, original.replace('"backend": "netns"', '"backend": "bogus"'));
      await vscode.window.showTextDocument(uri);
      const atLine = await waitFor('one problem at the backend line, from the JSON support', () => {
        const d = vscode.languages.getDiagnostics(uri).filter((x) => x.range.start.line === line);
        return d.length === 1 && d[0].source !== 'hypershield testbed' ? d : undefined;
      }, 30_000);
      assert.match(atLine[0].message, /netns/);
    } finally {
      fs.writeFileSync(file, original);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
    await waitFor('the diagnostics to clear', () => vscode.languages.getDiagnostics(uri).length === 0, 30_000);
  });
});
