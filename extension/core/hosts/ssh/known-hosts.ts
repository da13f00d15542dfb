import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

// Reads OpenSSH known_hosts files (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"). A sample of what it reads:
//   198.18.1.2 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB9...
//   [lab-model.example]:2222,[198.18.2.1]:2222 ecdsa-sha2-nistp256 AAAAE2VjZHNh...
//   |1|pX0l7R3cB4oG2Jx3yJ2a9Z5qk8o=|3Vg0JQ2c7a1wX6yQ4dVwT9bq2aY= ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB9...
//   @revoked * ssh-rsa AAAAB3NzaC1yc2E...
//   @cert-authority *.example ssh-ed25519 AAAA...   (certificates: not supported, skipped)

export interface KnownKey {
  /** Key type as written, e.g. "ssh-ed25519". */
  type: string;
  /** The public key blob (the base64 field decoded). */
  blob: Buffer;
  revoked: boolean;
  /** Where it was read, for messages: "file:line". */
  source: string;
}

/** "SHA256:…" as `ssh-keygen -lf` prints it. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The name known_hosts uses for host and port: "host" on port 22, else "[host]:port". */
export function knownHostsName(host: string, port = 22): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** `*` and `?` wildcards of a host pattern, matched against the whole name, case-insensitively. */
function wildcard(pattern: string, name: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'i').test(name);
}

function hashedMatch(entry: string, name: string): boolean {
  const [, magic, salt, hash] = entry.split('|');
  if (magic !== '1' || !salt || !hash) return false;
  const want = Buffer.from(hash, 'base64');
  const got = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest();
  return want.length === got.length && timingSafeEqual(want, got);
}

/** Whether the comma-separated pattern list of one line names `name` (a negated match excludes the line). */
function patternsMatch(patterns: string, name: string): boolean {
  if (patterns.startsWith('|')) return hashedMatch(patterns, name);
  let matched = false;
  for (const p of patterns.split(',')) {
    if (p.startsWith('!')) {
      if (wildcard(p.slice(1), name)) return false;
    } else if (wildcard(p, name)) {
      matched = true;
    }
  }
  return matched;
}

/** The keys recorded for `name` (see knownHostsName) in the text of one known_hosts file. */
export function knownKeysFor(text: string, name: string, file: string): KnownKey[] {
  const keys: KnownKey[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let revoked = false;
    if (fields[0].startsWith('@')) {
      if (fields[0] === '@cert-authority') return;
      revoked = fields[0] === '@revoked';
      fields.shift();
    }
    const [patterns, type, base64] = fields;
    if (!patterns || !type || !base64 || !patternsMatch(patterns, name)) return;
    keys.push({ type, blob: Buffer.from(base64, 'base64'), revoked, source: `${file}:${i + 1}` });
  });
  return keys;
}

/** The key type inside a public key blob (its first SSH string). */
export function blobType(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** Parses an OpenSSH public key line ("ssh-ed25519 AAAA… comment", or a known_hosts line) into its blob. */
export function publicKeyBlob(line: string): Buffer {
  const fields = line.trim().split(/\s+/);
  const i = fields.findIndex((f) => /^(ssh-|ecdsa-|sk-)/.test(f));
  if (i < 0 || !fields[i + 1]) throw new Error(`Not an OpenSSH public key line: ${JSON.stringify(line.slice(0, 60))}`);
  return Buffer.from(fields[i + 1], 'base64');
}
