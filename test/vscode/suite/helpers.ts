import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as vscode from 'vscode';
import type { HyperShieldApi } from '../../../extension/vscode/extension';

export const EXTENSION_ID = 'hypershield.hypershield-workbench';
/** The test workspace's testbed: its namespaces are hs-tvsc-client, -model and -server. */
export const TESTBED = 'tvsc';

export function workspaceFolder(): string {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  assert.ok(folder, 'the tests need a workspace folder');
  return folder;
}

export async function api(): Promise<HyperShieldApi> {
  const ext = vscode.extensions.getExtension<HyperShieldApi>(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is not installed in this VS Code`);
  return ext.isActive ? ext.exports : ext.activate();
}

/** Runs a command and fails with the extension's own error when the command reported one. */
export async function exec<T>(id: string, ...args: unknown[]): Promise<T> {
  const a = await api();
  a.commands.lastError = undefined;
  const result = await vscode.commands.executeCommand<T>(id, ...args);
  if (a.commands.lastError) throw a.commands.lastError;
  return result;
}

export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Names of the processes running in one of the test testbed's namespaces. */
export function processesIn(role: 'client' | 'model' | 'server'): string[] {
  let pids: string;
  try {
    pids = execFileSync('ip', ['netns', 'pids', `hs-${TESTBED}-${role}`], { encoding: 'utf8' });
  } catch {
    return [];
  }
  return pids.split(/\s+/).filter(Boolean).map((pid) => {
    try {
      return execFileSync('cat', [`/proc/${pid}/comm`], { encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  }).filter(Boolean);
}
