import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TestbedNode } from '../../../extension/vscode/tree/testbed-tree';
import { api, exec, TESTBED, waitFor, workspaceFolder } from './helpers';

async function items(parent?: TestbedNode): Promise<Array<{ node: TestbedNode; item: vscode.TreeItem }>> {
  const tree = (await api()).testbedTree;
  return (await tree.getChildren(parent)).map((node) => ({ node, item: tree.getTreeItem(node) }));
}

describe('testbed', () => {
  it('shows nothing but the welcome view while the testbed is down', async () => {
    await exec('hypershield.testbed.down');
    assert.deepEqual(await items(), []);
  });

  it('brings a real namespace testbed up and shows each host', async () => {
    await exec('hypershield.testbed.up');
    const roots = await items();
    assert.equal(roots.length, 1);
    const root = roots[0];
    assert.equal(root.item.label, TESTBED);
    assert.equal(root.item.id, `testbed/${TESTBED}`);
    assert.equal(root.item.contextValue, 'testbed:up');
    assert.match(String(root.item.description), /netns · up · model mode/);

    const children = await items(root.node);
    assert.deepEqual(children.map((c) => c.item.label), ['mode', 'client', 'model', 'server']);
    assert.equal(children[0].item.contextValue, 'mode:model');
    for (const host of children.slice(1)) {
      assert.equal(host.item.contextValue, `host:running:${host.item.label}`);
      const facts = await items(host.node);
      const fact = (label: string) => String(facts.find((f) => f.item.label === label)?.item.description);
      assert.match(fact('addresses'), /^198\.18\./);
      assert.equal(fact('kernel'), os.release());
      assert.match(fact('backend'), /^netns/);
      if (host.item.label === 'model') assert.equal(facts.find((f) => f.item.label === 'security model')?.item.contextValue, 'model:none');
    }
  });

  it('switches mode and the tree follows', async () => {
    assert.equal(await exec('hypershield.testbed.switchMode', 'direct'), 'direct');
    let root = (await items())[0];
    assert.match(String(root.item.description), /direct mode/);
    assert.equal((await items(root.node))[0].item.contextValue, 'mode:direct');
    await exec('hypershield.testbed.switchMode', 'model');
    root = (await items())[0];
    assert.match(String(root.item.description), /model mode/);
  });

  it('opens a terminal that runs inside a host', async () => {
    const marker = path.join(workspaceFolder(), '.hypershield', 'terminal-check');
    fs.rmSync(marker, { force: true });
    const terminal = await exec<vscode.Terminal>('hypershield.testbed.openTerminal', 'server');
    try {
      assert.equal(terminal.name, 'HyperShield server');
      terminal.sendText(`ip -o -4 addr show dev to-model > ${marker}`);
      const text = await waitFor('the terminal command to write its output', () => (fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8') : undefined));
      assert.match(text, /198\.18\.2\.2\/24/, 'the shell runs in the server namespace');
    } finally {
      terminal.dispose();
      fs.rmSync(marker, { force: true });
    }
  });
});
