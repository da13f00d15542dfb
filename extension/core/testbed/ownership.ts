// Who owns a testbed's objects on this machine. Namespace, tap and VM names derive from the testbed's name, so two
// workspaces that use the same name (both on the built-in "default", say) would otherwise share and break each
// other's hosts. The first workspace to bring a name up claims it; another workspace's up is refused with the
// owner's folder, and its down and status leave the owner's objects alone.
//
// Claims are read and written only under the testbed's lock (one per name on this machine), so checking a claim and
// taking it cannot interleave with another process doing the same.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readJson, writeFileAtomic } from '../util/atomic-file';

export interface Claim {
  testbed: string;
  /** The owning workspace folder. */
  workspace: string;
  /** Its state file: while it exists and records the testbed, the claim stands. */
  stateFile: string;
  since: string;
}

/** Machine-wide, like the names it guards; in /tmp itself so every user's CLI and VS Code find the same file. */
export function claimFile(testbed: string): string {
  return `/tmp/hypershield-owner-${testbed}.json`;
}

export function readClaim(testbed: string): Claim | undefined {
  return readJson<Claim>(claimFile(testbed));
}

/** The claim when it belongs to a workspace other than the one whose state file is given, and still stands. */
export function foreignClaim(testbed: string, stateFile: string): Claim | undefined {
  const claim = readClaim(testbed);
  if (!claim || path.resolve(claim.stateFile) === path.resolve(stateFile)) return undefined;
  // The owner brought its testbed down (or its folder is gone) without removing the claim: it no longer stands.
  return fs.existsSync(claim.stateFile) ? claim : undefined;
}

export class TestbedOwnedError extends Error {
  constructor(readonly claim: Claim) {
    super(`Testbed name "${claim.testbed}" is in use on this machine by the workspace ${claim.workspace} (up since ${claim.since}); ` +
      `its hosts are not this workspace's to change. Bring it down from that workspace, or give this workspace's testbed a name of its own ` +
      `("name": "…" in hypershield.testbed.json).`);
    this.name = 'TestbedOwnedError';
  }
}

/** Claims testbed for the workspace of stateFile; throws TestbedOwnedError when another workspace holds it. */
export function claim(testbed: string, workspace: string, stateFile: string): void {
  const other = foreignClaim(testbed, stateFile);
  if (other) throw new TestbedOwnedError(other);
  if (readClaim(testbed)?.stateFile === stateFile) return;
  const mine: Claim = { testbed, workspace: path.resolve(workspace), stateFile: path.resolve(stateFile), since: new Date().toISOString() };
  writeFileAtomic(claimFile(testbed), JSON.stringify(mine, null, 2) + '\n');
}

/** Gives up the claim if it is this workspace's (or no longer stands). */
export function release(testbed: string, stateFile: string): void {
  if (!foreignClaim(testbed, stateFile)) fs.rmSync(claimFile(testbed), { force: true });
}
