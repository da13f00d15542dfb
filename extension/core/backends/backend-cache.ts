import type { Testbed } from '../testbed/testbed';
import type { Backend, BackendChange } from './backend';
import { backendFor } from './open';

/**
 * One backend per testbed description for a long-lived front end (VS Code): its connections are made once and
 * reused across commands, tree refreshes and whole runs. A changed description gets a new backend; the old one is
 * disposed.
 */
export class BackendCache {
  private entry: { key: string; backend: Backend; stopListening: () => void } | undefined;

  constructor(private readonly workspace: string, private readonly onChange: (change: BackendChange) => void) {}

  /** The backend of testbed, made on first use and kept while the description stays the same. */
  get(testbed: Testbed): Backend {
    const key = JSON.stringify(testbed);
    if (this.entry?.key === key) return this.entry.backend;
    void this.dispose();
    const backend = backendFor(testbed, this.workspace);
    this.entry = { key, backend, stopListening: backend.onDidChange(this.onChange) };
    return backend;
  }

  async dispose(): Promise<void> {
    const old = this.entry;
    this.entry = undefined;
    if (!old) return;
    old.stopListening();
    await old.backend.dispose();
  }
}
