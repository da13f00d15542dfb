import * as vscode from 'vscode';
import type { Role } from '../../core/hosts/host';
import type { TestbedStatus } from '../../core/testbed/status';
import { TESTBED_FILE } from '../../core/testbed/testbed';
import type { ModelState, Workbench } from '../workbench';

type HostInfo = TestbedStatus['hosts'][number];

/** Tree nodes; ids are stable across refreshes so expansion and selection survive. */
export type TestbedNode =
  | { kind: 'testbed'; status: TestbedStatus; model?: ModelState; fileError?: Error }
  | { kind: 'host'; status: TestbedStatus; host: HostInfo; model?: ModelState }
  | { kind: 'fact'; id: string; label: string; description: string; icon: string; contextValue?: string; tooltip?: string; command?: vscode.Command };

const ROLE_ICONS: Record<Role, string> = { client: 'device-desktop', model: 'shield', server: 'server' };

function modelStateText(model: ModelState | undefined): string {
  if (!model) return 'deployed';
  if ('error' in model) return `not responding: ${model.error}`;
  const c = model.counters;
  return `running · ${c.packets} packets, ${c.dropped} dropped`;
}

function stateIcon(state: string, icon: string): vscode.ThemeIcon {
  const color = state === 'up' || state === 'running' ? 'testing.iconPassed' : state === 'partial' || state === 'unreachable' ? 'problemsWarningIcon.foreground' : undefined;
  return new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
}

/**
 * The testbed and its hosts: role, backend, state, addresses, kernel, the mode and the deployed model.
 * Empty while the testbed is down or unreadable, so the welcome view offers the next step instead.
 * `contextValue`s ("testbed:up", "host:running:model", "host:stopped:model:console", "model:deployed", "mode:direct")
 * drive the menus.
 */
export class TestbedTree implements vscode.TreeDataProvider<TestbedNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<TestbedNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly workbench: Workbench) {
    this.subscription = workbench.onDidChangeTestbed(() => this.changed.fire(undefined));
  }

  async getChildren(node?: TestbedNode): Promise<TestbedNode[]> {
    if (!node) {
      const view = this.workbench.testbed.kind === 'none' ? await this.workbench.readTestbed() : this.workbench.testbed;
      return view.kind === 'status' && view.status.state !== 'down' ? [{ kind: 'testbed', status: view.status, model: view.model, fileError: view.fileError }] : [];
    }
    if (node.kind === 'testbed') {
      const s = node.status;
      const mode: TestbedNode = {
        kind: 'fact', id: `${s.name}/mode`, label: 'mode', icon: 'arrow-swap', contextValue: s.mode ? `mode:${s.mode}` : undefined,
        description: s.mode === 'model' ? 'client → model → server' : s.mode === 'direct' ? 'client → server' : 'unknown',
      };
      const hosts = s.hosts.map((host): TestbedNode => ({ kind: 'host', status: s, host, model: node.model }));
      return node.fileError ? [this.fileProblem(s, node.fileError), mode, ...hosts] : [mode, ...hosts];
    }
    if (node.kind === 'host') return this.hostFacts(node.status, node.host, node.model);
    return [];
  }

  /** The description cannot be read: say so where the testbed is shown, and that it is shown from its state. */
  private fileProblem(s: TestbedStatus, error: Error): TestbedNode {
    return {
      kind: 'fact', id: `${s.name}/file-problem`, label: TESTBED_FILE, icon: 'warning', contextValue: 'testbedFile:error',
      description: 'has errors · shown from the recorded state',
      tooltip: `${error.message}\n\nUntil it is fixed, this testbed is shown from what its state recorded when it came up; Bring Testbed Down works from that record.`,
      command: { title: 'Show Problems', command: 'workbench.actions.view.problems' },
    };
  }

  private hostFacts(s: TestbedStatus, h: HostInfo, model: ModelState | undefined): TestbedNode[] {
    const id = `${s.name}/host/${h.role}`;
    const facts: TestbedNode[] = [
      { kind: 'fact', id: `${id}/backend`, label: 'backend', description: `${s.backend}${h.detail ? ` (${h.detail})` : ''}`, icon: 'vm' },
      { kind: 'fact', id: `${id}/addresses`, label: 'addresses', description: h.addresses.join(', ') || 'none', icon: 'globe' },
      { kind: 'fact', id: `${id}/kernel`, label: 'kernel', description: h.kernel ?? 'unknown', icon: 'chip' },
    ];
    if (h.role === 'model') {
      const d = s.deployed;
      facts.push(d
        ? { kind: 'fact', id: `${id}/model`, label: 'security model', icon: 'shield', contextValue: `model:deployed:${d.placement}`,
          description: `${d.placement} · ${modelStateText(model)}`,
          tooltip: `${d.placement} model from ${d.dir}\ndeployed ${new Date(d.deployedAt).toLocaleString()}\nsource ${d.sourceHash.slice(0, 12)}, build ${d.buildId.slice(0, 12)}${d.detail.verified ? `\n${d.detail.verified}` : ''}` }
        : { kind: 'fact', id: `${id}/model`, label: 'security model', description: 'none deployed', icon: 'circle-slash', contextValue: 'model:none',
          tooltip: 'No security model is deployed: traffic in model mode crosses this host unfiltered. Deploy one from a model project.' });
    }
    return facts;
  }

  getTreeItem(node: TestbedNode): vscode.TreeItem {
    switch (node.kind) {
      case 'testbed': {
        const s = node.status;
        const item = new vscode.TreeItem(s.name, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `testbed/${s.name}`;
        item.description = `${s.backend} · ${s.state}${s.mode ? ` · ${s.mode} mode` : ''}`;
        item.tooltip = `Testbed ${s.name} (${s.backend}) from ${s.source}: ${s.state}${s.mode ? `, ${s.mode} mode` : ''}`;
        item.iconPath = stateIcon(s.state, 'server-environment');
        item.contextValue = `testbed:${s.state}`;
        return item;
      }
      case 'host': {
        const { host: h, status: s } = node;
        const item = new vscode.TreeItem(h.role, h.role === 'model' ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `testbed/${s.name}/host/${h.role}`;
        // Short enough for the sidebar's default width; the backend is on the testbed row and in the facts below.
        item.description = `${h.state}${h.addresses.length ? ` · ${h.addresses[0].replace(/\/\d+$/, '')}` : ''}`;
        item.tooltip = `${h.label}: ${h.state}${h.detail ? `\n${h.detail}` : ''}${h.kernel ? `\nkernel ${h.kernel}` : ''}`;
        item.iconPath = stateIcon(h.state, ROLE_ICONS[h.role]);
        // ":console" on a VM: its console log can be opened.
        item.contextValue = `host:${h.state}:${h.role}${h.consoleLog ? ':console' : ''}`;
        return item;
      }
      case 'fact': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
        item.id = `testbed/${node.id}`;
        item.description = node.description;
        // The full text where the description is cut; the label is on the row already.
        item.tooltip = node.tooltip ?? node.description;
        item.iconPath = new vscode.ThemeIcon(node.icon);
        item.contextValue = node.contextValue;
        item.command = node.command;
        return item;
      }
    }
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
