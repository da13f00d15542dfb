// SFTP transfers are bounded and all-or-nothing: against a real sshd that freezes (SIGSTOP) in the middle of an
// upload, the upload fails once no data has moved for its stall bound, naming the host, the file and what to check;
// cancelled transfers reject at once; no partial file is left at the destination, which keeps its old content.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SshConnection } from '../../extension/core/hosts/ssh/connection';
import { sleep } from '../../extension/core/util/poll';
import { SshdLab } from '../helpers/sshd';
import { namespaces } from '../helpers/workspace';

const MiB = 1024 * 1024;

/** Every process below pid (the sshd serving a connection and what it forked for the session and SFTP). */
function descendants(pid: number): number[] {
  const children = spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).stdout.split(/\s+/).filter(Boolean).map(Number);
  return children.flatMap((c) => [c, ...descendants(c)]);
}

/** The files in dir whose names start with `prefix`. */
const named = (dir: string, prefix: string) => fs.readdirSync(dir).filter((f) => f.startsWith(prefix));

async function until(what: string, cond: () => boolean, ms: number): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) if (cond()) return;
  assert.fail(`timed out waiting until ${what}`);
}

describe('SFTP transfers are bounded, cancellable and leave no partial file', () => {
  const lab = new SshdLab(`bd-sf${randomBytes(2).toString('hex')}`);
  let conn: SshConnection;
  let frozen: number[] = [];
  let big: string;
  let remoteDir: string;

  before(async () => {
    await lab.start(['model']);
    // Keep-alive off: only the stall bound can end a transfer to the frozen host.
    conn = new SshConnection({
      host: 'model.lab', username: 'root', identityFile: lab.userKey, sock: lab.sock('model'),
      hostKeys: { kind: 'pinned', keys: [lab.hostKeyLine('model')] }, label: 'bd-model',
    }, { connectTimeoutMs: 15_000, keepaliveMs: 0 });
    // Large enough that no transfer of it finishes before the test freezes or cancels it; random, so nothing compresses it.
    big = path.join(lab.dir, 'big.bin');
    const fd = fs.openSync(big, 'w');
    for (let i = 0; i < 256; i++) fs.writeSync(fd, randomBytes(MiB));
    fs.closeSync(fd);
    remoteDir = path.join(lab.dir, 'remote');
    fs.mkdirSync(remoteDir);
  });
  after(async () => {
    for (const pid of frozen) try { process.kill(pid, 'SIGCONT'); } catch { /* gone */ }
    await conn.dispose();
    await lab.cleanup();
    assert.deepEqual(namespaces(`hs-${lab.name}-`), []);
  });

  test('an upload to a host that freezes mid-transfer fails at its stall bound with a clear error; the old file stays', { timeout: 120_000 }, async () => {
    const dest = path.join(remoteDir, 'payload.bin');
    fs.writeFileSync(dest, 'old content');
    await conn.open();
    const sessions = lab.sessions('model');
    const upload = conn.upload(big, dest, { stallTimeoutMs: 3000 });
    const outcome = upload.then(() => undefined, (err: Error) => err);
    // Frozen once data has started to arrive, so the transfer is truly in flight.
    await until('the upload has started', () => named(remoteDir, 'payload.bin.hs-part-').some((f) => fs.statSync(path.join(remoteDir, f)).size > 0), 60_000);
    frozen = sessions.flatMap((p) => [p, ...descendants(p)]);
    for (const pid of frozen) process.kill(pid, 'SIGSTOP');
    const t0 = Date.now();
    const err = await outcome;
    const ms = Date.now() - t0;
    assert.ok(err instanceof Error, 'the upload to the frozen host failed');
    assert.ok(ms < 3000 + 5000, `it failed ${ms} ms after the freeze (bound 3 s, plus load)`);
    assert.match(err.message, /^bd-model: uploading .*big\.bin to .*payload\.bin made no progress for 3 s/);
    assert.match(err.message, /hypershield status/);
    assert.match(err.message, /stallTimeoutMs/);
    assert.equal(fs.readFileSync(dest, 'utf8'), 'old content', 'the destination keeps its old content');

    for (const pid of frozen) process.kill(pid, 'SIGCONT');
    frozen = [];
    // The host answers again: the temporary file is removed, and the next upload goes through completely.
    await until('the partial file is removed', () => named(remoteDir, 'payload.bin.hs-part-').length === 0, 30_000);
    await conn.upload(big, dest);
    assert.equal(fs.statSync(dest).size, 256 * MiB);
    assert.deepEqual(named(remoteDir, 'payload.bin.'), []);
  });

  test('cancelled transfers reject at once and leave neither a partial nor a changed file, remote or local', { timeout: 120_000 }, async () => {
    const dest = path.join(remoteDir, 'cancelled.bin');
    fs.writeFileSync(dest, 'old remote');
    const up = new AbortController();
    const upload = conn.upload(big, dest, { signal: up.signal }).then(() => undefined, (err: Error) => err);
    await until('the upload has started', () => named(remoteDir, 'cancelled.bin.hs-part-').some((f) => fs.statSync(path.join(remoteDir, f)).size > 0), 60_000);
    let t0 = Date.now();
    up.abort();
    const upErr = await upload;
    assert.ok(upErr instanceof Error && /^bd-model: uploading .*big\.bin to .*cancelled\.bin was cancelled/.test(upErr.message), String(upErr));
    assert.ok(Date.now() - t0 < 11_000, `the cancelled upload ended ${Date.now() - t0} ms after the abort`);
    assert.equal(fs.readFileSync(dest, 'utf8'), 'old remote');
    assert.deepEqual(named(remoteDir, 'cancelled.bin.'), [], 'the remote temporary file is removed');

    const localDir = path.join(lab.dir, 'local');
    const local = path.join(localDir, 'copy.bin');
    fs.mkdirSync(localDir);
    fs.writeFileSync(local, 'old local');
    const down = new AbortController();
    const download = conn.download(big, local, { signal: down.signal }).then(() => undefined, (err: Error) => err);
    await until('the download has started', () => named(localDir, '.copy.bin.hs-part-').some((f) => fs.statSync(path.join(localDir, f)).size > 0), 60_000);
    t0 = Date.now();
    down.abort();
    const downErr = await download;
    assert.ok(downErr instanceof Error && /^bd-model: downloading .*big\.bin to .*copy\.bin was cancelled/.test(downErr.message), String(downErr));
    assert.ok(Date.now() - t0 < 2000, `the cancelled download ended ${Date.now() - t0} ms after the abort`);
    assert.equal(fs.readFileSync(local, 'utf8'), 'old local');
    assert.deepEqual(fs.readdirSync(localDir), ['copy.bin'], 'the local temporary file is removed');

    // The connection is still usable: a whole download replaces the old file.
    await conn.download(big, local);
    assert.equal(fs.statSync(local).size, 256 * MiB);
    assert.deepEqual(fs.readdirSync(localDir), ['copy.bin']);
  });
});
