import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { BuildResult } from '../../../extension/core/model/build';
import type { DeployResult } from '../../../extension/core/model/deploy/deploy';
import { api, exec, waitFor, workspaceFolder } from './helpers';

const BROKEN = 'int hypershield_broken(void) { return undeclared_counter; }\n';

describe('security model', () => {
  let source: string;
  let original: string;

  it('creates a model project from the templates', async () => {
    await exec('hypershield.model.new', 'model', 'user');
    source = path.join(workspaceFolder(), 'model', 'user_space_model.c');
    assert.ok(fs.existsSync(source), `${source} was created`);
    original = fs.readFileSync(source, 'utf8');
    // The workspace's file search finds the new project once its file events are through.
    await waitFor('a build task for the new project', async () => (await vscode.tasks.fetchTasks({ type: 'hypershield' }))
      .some((t) => t.definition.task === 'build' && t.definition.model === 'model' && t.definition.placement === 'user'));
  });

  it('shows build errors in the Problems panel at their file and line, with notes', async () => {
    fs.writeFileSync(source, original + BROKEN);
    const line = original.split('\n').length; // 1-based line of the appended function
    const result = await exec<BuildResult | undefined>('hypershield.model.build', 'model', 'user');
    assert.equal(result, undefined, 'a failed build returns nothing');
    const uri = vscode.Uri.file(source);
    const diags = await waitFor('build diagnostics', () => {
      const d = vscode.languages.getDiagnostics(uri);
      return d.length ? d : undefined;
    });
    const error = diags.find((d) => d.severity === vscode.DiagnosticSeverity.Error);
    assert.ok(error, `an error diagnostic: ${JSON.stringify(diags)}`);
    assert.match(error.message, /undeclared_counter/);
    assert.equal(error.range.start.line, line - 1);
    assert.equal(error.range.start.character, BROKEN.indexOf('undeclared_counter'));
    assert.ok((error.relatedInformation ?? []).length > 0, 'the compiler note is attached as related information');
  });

  it('clears them on the next successful build', async () => {
    fs.writeFileSync(source, original);
    const result = await exec<BuildResult>('hypershield.model.build', 'model', 'user');
    assert.ok(result?.ok, 'the build succeeds');
    assert.ok(fs.existsSync(result.artifacts[0]));
    const errors = vscode.languages.getDiagnostics(vscode.Uri.file(source)).filter((d) => d.severity === vscode.DiagnosticSeverity.Error);
    assert.deepEqual(errors, []);
  });

  it('runs a build task defined in tasks.json', async () => {
    const dir = path.join(workspaceFolder(), '.vscode');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'tasks.json'), JSON.stringify({
      version: '2.0.0',
      tasks: [{ label: 'build the user model', type: 'hypershield', task: 'build', model: 'model', placement: 'user' }],
    }, null, 2));
    try {
      const task = await waitFor('the task from tasks.json', async () =>
        (await vscode.tasks.fetchTasks({ type: 'hypershield' })).find((t) => t.name === 'build the user model'));
      const ended = new Promise<number | undefined>((resolve) => {
        const sub = vscode.tasks.onDidEndTaskProcess((e) => {
          if (e.execution.task.name !== task.name) return;
          sub.dispose();
          resolve(e.exitCode);
        });
      });
      await vscode.tasks.executeTask(task);
      assert.equal(await ended, 0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('deploys the model; the Testbed tree shows it running; undeploys it', async () => {
    const modelFact = async () => {
      const tree = (await api()).testbedTree;
      const [root] = await tree.getChildren();
      const host = (await tree.getChildren(root)).find((n) => n.kind === 'host' && n.host.role === 'model')!;
      const fact = (await tree.getChildren(host)).find((n) => tree.getTreeItem(n).label === 'security model')!;
      return tree.getTreeItem(fact);
    };
    const result = await exec<DeployResult>('hypershield.model.deploy', 'model', 'user');
    assert.equal(result?.deployed.placement, 'user');
    const deployed = await modelFact();
    assert.equal(deployed.contextValue, 'model:deployed:user');
    assert.match(String(deployed.description), /^user · running · \d+ packets, \d+ dropped$/);
    assert.equal(await exec('hypershield.model.undeploy'), true);
    assert.equal((await modelFact()).contextValue, 'model:none');
  });
});
