import * as vscode from 'vscode';
import { openTestbed } from '../core/backends/open';
import { testbedStatus } from '../core/testbed/status';

export function activate(context: vscode.ExtensionContext): void {
  context.subscriptions.push(vscode.commands.registerCommand('hypershield.showStatus', async () => {
    const ws = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    if (!ws) return void vscode.window.showWarningMessage('HyperShield: open a folder first.');
    const s = await testbedStatus(openTestbed(ws));
    void vscode.window.showInformationMessage(`HyperShield testbed ${s.name} (${s.backend}): ${s.state}${s.mode ? `, ${s.mode} mode` : ''}`);
  }));
}

export function deactivate(): void {}
