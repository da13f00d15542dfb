import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { openTestbed } from '../../extension/core/backends/open';
import type { Backend } from '../../extension/core/backends/backend';

/** A temp workspace with its own testbed name, so tests never touch another testbed. */
export function tempWorkspace(name: string, extra: Record<string, unknown> = {}): { dir: string; backend: () => Backend; cleanup: () => Promise<void> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `hs-${name}-`));
  fs.writeFileSync(path.join(dir, 'hypershield.testbed.json'), JSON.stringify({ name, backend: 'netns', ...extra }, null, 2));
  return {
    dir,
    backend: () => openTestbed(dir),
    cleanup: async () => {
      await openTestbed(dir).down().catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function namespaces(prefix: string): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith(prefix));
}

/** Runs the CLI from source, as a user would run the built one. */
export const CLI = [path.join(__dirname, '..', '..', 'node_modules', '.bin', 'tsx'), path.join(__dirname, '..', '..', 'extension', 'cli', 'main.ts')];
