import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { blobType, fingerprint, knownKeysFor, publicKeyBlob } from '../../extension/core/hosts/ssh/known-hosts';
import { checkHostKey, HostKeyError, type SshTarget } from '../../extension/core/hosts/ssh/connection';
import { shellJoin, shellQuote } from '../../extension/core/hosts/ssh/quote';

// Captured with OpenSSH 9.2's ssh-keygen: keys (-t ed25519/ecdsa/rsa), known_hosts hashed with -H, `ssh-keygen -lf`
// fingerprints and `ssh-keygen -F NAME` lookups, which are the reference for what matches.
const dir = path.join(__dirname, '..', 'fixtures', 'ssh');
const knownHostsFile = path.join(dir, 'known_hosts');
const knownHosts = fs.readFileSync(knownHostsFile, 'utf8');
const pub = (name: string) => fs.readFileSync(path.join(dir, `${name}.pub`), 'utf8');
const keys = { a: pub('a_ed25519'), b: pub('b_ecdsa'), c: pub('c_rsa') };

/** `ssh-keygen -F` output: "== name" then the lines that match it. */
function lookups(): Map<string, string[]> {
  const m = new Map<string, string[]>();
  let name = '';
  for (const line of fs.readFileSync(path.join(dir, 'ssh-keygen-F.txt'), 'utf8').split('\n')) {
    if (line.startsWith('== ')) m.set((name = line.slice(3)), []);
    else if (line.trim()) m.get(name)!.push(line);
  }
  return m;
}

describe('known_hosts', () => {
  test('fingerprints are those ssh-keygen -lf prints', () => {
    const printed = fs.readFileSync(path.join(dir, 'fingerprints.txt'), 'utf8').trim().split('\n').map((l) => l.split(' ')[1]);
    assert.deepEqual([keys.a, keys.b, keys.c].map((k) => fingerprint(publicKeyBlob(k))), printed);
    assert.deepEqual([keys.a, keys.b, keys.c].map((k) => blobType(publicKeyBlob(k))), ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ssh-rsa']);
  });

  test('every name matches the lines ssh-keygen -F finds: hashed, [host]:port, lists, wildcards, negation, @revoked', () => {
    for (const [name, lines] of lookups()) {
      const found = knownKeysFor(knownHosts, name, 'kh').map((k) => `${k.revoked ? '@revoked ' : ''}${k.type} ${k.blob.toString('base64')}`);
      const expected = lines.map((l) => l.split(/\s+/)).map((f) => (f[0] === '@revoked' ? `@revoked ${f[2]} ${f[3]}` : `${f[1]} ${f[2]}`));
      assert.deepEqual(found, expected, name);
    }
    assert.deepEqual(knownKeysFor(knownHosts, 'x.ca.lab', 'kh'), [], '@cert-authority lines are not host keys');
    assert.equal(knownKeysFor(knownHosts, 'plain.lab', 'kh')[0].source, 'kh:4');
  });

  const target = (host: string, port?: number, trustFingerprint?: string): SshTarget =>
    ({ host, port, username: 'root', hostKeys: { kind: 'known-hosts', files: [knownHostsFile], trustFingerprint } });
  const refusal = (t: SshTarget, key: string) => {
    try { checkHostKey(t, publicKeyBlob(key)); } catch (err) { assert.ok(err instanceof HostKeyError); return err; }
    return assert.fail('accepted');
  };

  test('recorded keys are accepted; another key for a known host is a changed key; a revoked key is refused', () => {
    checkHostKey(target('hashed.lab'), publicKeyBlob(keys.a));
    checkHostKey(target('hashed.lab', 2222), publicKeyBlob(keys.b));
    checkHostKey(target('198.18.1.2'), publicKeyBlob(keys.a));
    const changed = refusal(target('plain.lab', 2222, fingerprint(publicKeyBlob(keys.a))), keys.a);
    assert.match(changed.message, /HOST KEY CHANGED/);
    assert.deepEqual([changed.offered, changed.recorded], [fingerprint(publicKeyBlob(keys.a)), [fingerprint(publicKeyBlob(keys.b))]]);
    assert.match(refusal(target('revoked.lab'), keys.a).message, /@revoked/);
  });

  test('an unknown key is refused with its fingerprint unless exactly that fingerprint is trusted', () => {
    const fp = fingerprint(publicKeyBlob(keys.c));
    const e = refusal(target('secret.wild.lab'), keys.c);
    assert.ok(e.message.includes(fp) && e.message.includes(`"sshTrustFingerprint": "${fp}"`), e.message);
    checkHostKey(target('secret.wild.lab', undefined, fp), publicKeyBlob(keys.c));
    assert.match(refusal(target('secret.wild.lab', undefined, fingerprint(publicKeyBlob(keys.a))), keys.c).message, /does not match the fingerprint you said to trust/);
  });

  test('pinned keys: only those', () => {
    const t: SshTarget = { host: 'vm', username: 'root', hostKeys: { kind: 'pinned', keys: [keys.a] } };
    checkHostKey(t, publicKeyBlob(keys.a));
    assert.match(refusal(t, keys.b).message, /not its pinned key/);
  });
});

describe('shell quoting for the remote shell', () => {
  const tricky = ['plain', '', 'a b', "it's", "''", '$HOME', '${x:-y}', '`id`', '$(id)', '"q"', 'x\ny', '*', '?', '~', '-n', '--', 'a;b', 'a|b&c', '\\', '\\n', 'ü', '#c', '!x', ' lead', 'tab\there'];
  for (const shell of [['dash', '-c'], ['bash', '-c'], ['busybox', 'sh', '-c']]) {
    test(`${shell[0]} receives each argument exactly`, () => {
      const out = execFileSync(shell[0], [...shell.slice(1), `printf '%s\\0' ${shellJoin(tricky)}`], { encoding: 'utf8' });
      assert.deepEqual(out.split('\0').slice(0, -1), tricky);
    });
  }
  test('safe words stay readable; a NUL byte is refused', () => {
    assert.equal(shellJoin(['ip', '-j', 'route', 'replace', '198.18.2.0/24', 'via', '198.18.1.1']), 'ip -j route replace 198.18.2.0/24 via 198.18.1.1');
    assert.throws(() => shellQuote('a\0b'), /NUL/);
  });
});
