import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HostKeyError, SshConnection, type SshTarget } from '../../extension/core/hosts/ssh/connection';
import { resolveTarget } from '../../extension/core/hosts/ssh/ssh-config';
import { SshdLab } from '../helpers/sshd';
import { namespaces } from '../helpers/workspace';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (cond()) return;
  assert.fail(`timed out waiting until ${what}`);
}

describe('SSH transport against real sshd servers in namespaces', () => {
  const lab = new SshdLab(`ssh-t${randomBytes(2).toString('hex')}`);
  const conns: SshConnection[] = [];
  const connect = (t: Partial<SshTarget>, opts?: ConstructorParameters<typeof SshConnection>[1]) => {
    const c = new SshConnection({
      host: 'client.lab', username: 'root', identityFile: lab.userKey, sock: lab.sock('client'),
      hostKeys: { kind: 'pinned', keys: [lab.hostKeyLine('client')] }, ...t,
    }, { connectTimeoutMs: 15_000, ...opts });
    conns.push(c);
    return c;
  };
  const knownHosts = (name: string, lines: string[]) => {
    const file = path.join(lab.dir, `known_hosts_${name}`);
    fs.writeFileSync(file, lines.join('\n') + '\n');
    return file;
  };

  before(async () => { await lab.start(['client', 'model']); });
  after(async () => {
    for (const c of conns) await c.dispose();
    await lab.cleanup();
    assert.deepEqual(namespaces(`hs-${lab.name}-`), []);
  });

  test('exec passes every argument intact, keeps stdout and stderr apart, and returns the exit code', async () => {
    const c = connect({});
    const tricky = ['a b', "it's", '$HOME', '`id`', '"q"', 'x\ny', '*', '-n', '', 'ü', '\\'];
    const r = await c.exec(['printf', '%s|', ...tricky], { timeoutMs: 10_000 });
    assert.equal(r.code, 0);
    assert.equal(r.stdout, tricky.map((a) => `${a}|`).join(''));
    const e = await c.exec(['sh', '-c', 'echo out; echo err >&2; exit 7'], { timeoutMs: 10_000 });
    assert.deepEqual([e.code, e.stdout, e.stderr], [7, 'out\n', 'err\n']);
    const io = await c.exec(['sh', '-c', 'pwd; echo "$GREETING"; cat'], { timeoutMs: 10_000, cwd: '/usr', env: { GREETING: "hello 'there'" }, stdin: 'from stdin' });
    assert.equal(io.stdout, "/usr\nhello 'there'\nfrom stdin");
    const missing = await c.exec(['no-such-program-here'], { timeoutMs: 10_000 });
    assert.equal(missing.code, 127);
  });

  test('an unknown host key is refused with its fingerprint and how to trust it, and accepted when that fingerprint is trusted', async () => {
    const empty = knownHosts('empty', []);
    const fp = lab.fingerprint('client');
    await assert.rejects(connect({ hostKeys: { kind: 'known-hosts', files: [empty] } }).open(), (err: Error) => {
      assert.ok(err instanceof HostKeyError, err.message);
      assert.match(err.message, /Unknown host key for root@client\.lab/);
      assert.ok(err.message.includes(fp), `the message shows ${fp}: ${err.message}`);
      assert.match(err.message, /sshTrustFingerprint|--trust-fingerprint/);
      return true;
    });
    const other = lab.fingerprint('model');
    await assert.rejects(connect({ hostKeys: { kind: 'known-hosts', files: [empty], trustFingerprint: other } }).open(), /does not match the fingerprint you said to trust/);
    const trusted = connect({ hostKeys: { kind: 'known-hosts', files: [empty], trustFingerprint: fp } });
    assert.equal((await trusted.exec(['true'], { timeoutMs: 10_000 })).code, 0);
  });

  test('a key known_hosts records is accepted: plain, [host]:port and hashed entries', async () => {
    const key = lab.hostKeyLine('client').split(' ').slice(0, 2).join(' ');
    const plain = knownHosts('plain', [`other.lab ${lab.hostKeyLine('model')}`, `client.lab,198.18.1.2 ${key}`]);
    assert.equal((await connect({ hostKeys: { kind: 'known-hosts', files: [plain] } }).exec(['true'], { timeoutMs: 10_000 })).code, 0);
    const ported = knownHosts('port', [`[client.lab]:2222 ${key}`]);
    assert.equal((await connect({ port: 2222, hostKeys: { kind: 'known-hosts', files: [ported] } }).exec(['true'], { timeoutMs: 10_000 })).code, 0);
    await assert.rejects(connect({ hostKeys: { kind: 'known-hosts', files: [ported] } }).open(), /Unknown host key/, 'the port is part of the name');
    const hashed = knownHosts('hashed', [`client.lab ${key}`, `[client.lab]:2222 ${key}`]);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', hashed], { stdio: 'ignore' });
    const text = fs.readFileSync(hashed, 'utf8');
    assert.doesNotMatch(text, /client\.lab/, 'ssh-keygen -H hashed the names');
    assert.equal((await connect({ hostKeys: { kind: 'known-hosts', files: [hashed] } }).exec(['true'], { timeoutMs: 10_000 })).code, 0);
    assert.equal((await connect({ port: 2222, hostKeys: { kind: 'known-hosts', files: [hashed] } }).exec(['true'], { timeoutMs: 10_000 })).code, 0);
  });

  test('a changed host key is refused, naming both fingerprints; so is a key that is not the pinned one', async () => {
    const stale = knownHosts('stale', [`client.lab ${lab.hostKeyLine('model')}`]);
    await assert.rejects(connect({ hostKeys: { kind: 'known-hosts', files: [stale], trustFingerprint: lab.fingerprint('client') } }).open(), (err: Error) => {
      assert.ok(err instanceof HostKeyError);
      assert.match(err.message, /HOST KEY CHANGED for root@client\.lab/);
      assert.ok(err.message.includes(lab.fingerprint('client')) && err.message.includes(lab.fingerprint('model')), err.message);
      return true;
    });
    await assert.rejects(connect({ hostKeys: { kind: 'pinned', keys: [lab.hostKeyLine('model')] } }).open(), (err: Error) => {
      assert.ok(err instanceof HostKeyError);
      assert.ok(err.message.includes(lab.fingerprint('client')) && err.message.includes(lab.fingerprint('model')), err.message);
      return true;
    });
  });

  test('ProxyJump: the client namespace reached through the model host', async () => {
    const c = connect({
      host: '198.18.1.2', sock: undefined, label: 'client via model',
      proxyJump: { host: 'model.lab', username: 'root', identityFile: lab.userKey, sock: lab.sock('model'), hostKeys: { kind: 'pinned', keys: [lab.hostKeyLine('model')] } },
    });
    const r = await c.exec(['ip', '-4', '-o', 'addr', 'show'], { timeoutMs: 10_000 });
    assert.match(r.stdout, /198\.18\.1\.2\//);
    assert.doesNotMatch(r.stdout, /198\.18\.1\.1\//, 'ran on the client, not on the jump host');
  });

  test('~/.ssh/config: HostName, User, IdentityFile, UserKnownHostsFile, ProxyCommand and ProxyJump', async () => {
    const kh = knownHosts('config', [`model.lab ${lab.hostKeyLine('model')}`, `198.18.1.2 ${lab.hostKeyLine('client')}`]);
    const config = path.join(lab.dir, 'ssh_config');
    fs.writeFileSync(config, [
      'Host lab-model', '  HostName model.lab', `  ProxyCommand ${lab.proxyCommand('model')}`,
      'Host lab-client', '  HostName 198.18.1.2', '  ProxyJump lab-model',
      'Host lab-*', '  User root', `  IdentityFile ${lab.userKey}`, `  UserKnownHostsFile ${kh}`, '  IdentityAgent none', '',
    ].join('\n'));
    const target = resolveTarget({ sshHost: 'lab-client' }, { configFile: config });
    assert.equal(target.host, '198.18.1.2');
    assert.equal(target.proxyJump?.host, 'model.lab');
    const r = await connect(target).exec(['ip', '-4', '-o', 'addr', 'show'], { timeoutMs: 10_000 });
    assert.match(r.stdout, /198\.18\.1\.2\//);
  });

  test('a key protected by a passphrase is unlocked by the prompt, refused clearly without one; an agent authenticates', async () => {
    const locked = path.join(lab.dir, 'locked_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-a', '2', '-N', 'correct horse', '-f', locked]);
    fs.appendFileSync(path.join(lab.dir, 'authorized_keys'), fs.readFileSync(`${locked}.pub`));
    await assert.rejects(connect({ identityFile: locked }).open(), /protected by a passphrase.*ssh-add/s);
    await assert.rejects(connect({ identityFile: locked }, { askSecret: async () => 'wrong' }).open(), /passphrase for .* is wrong/);
    const asked: string[] = [];
    const ok = connect({ identityFile: locked }, { askSecret: async (r) => { asked.push(r.subject); return 'correct horse'; } });
    assert.equal((await ok.exec(['true'], { timeoutMs: 10_000 })).code, 0);
    assert.deepEqual(asked, [locked]);

    const sock = path.join(lab.dir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    try {
      await until('the agent listens', () => fs.existsSync(sock));
      execFileSync('ssh-add', ['-q', lab.userKey], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
      const viaAgent = connect({ identityFile: undefined, agent: sock });
      assert.equal((await viaAgent.exec(['true'], { timeoutMs: 10_000 })).code, 0);
      await assert.rejects(connect({ identityFile: undefined }).open(), /authentication as root failed \(tried no key at all/);
    } finally {
      agent.kill('SIGKILL');
    }
  });

  test('cancelling a command ends the remote process and its children', async () => {
    const c = connect({});
    const ac = new AbortController();
    const running = c.exec(['sh', '-c', 'sleep 3001 & sleep 3002; wait'], { signal: ac.signal, timeoutMs: 60_000 });
    // The two sleeps, and the shell whose command line names them too.
    await until('the remote processes run', () => lab.processes('client', 'sleep 300').length >= 3);
    ac.abort();
    const r = await running;
    assert.equal(r.cancelled, true);
    assert.equal(r.code, null);
    await until('the remote processes are gone', () => lab.processes('client', 'sleep 300').length === 0, 3000);
  });

  test('a command that times out is ended remotely too', async () => {
    const c = connect({});
    const started = Date.now();
    const r = await c.exec(['sleep', '3003'], { timeoutMs: 1500 });
    assert.equal(r.timedOut, true);
    assert.equal(r.code, null);
    assert.ok(Date.now() - started < 8000, 'returns soon after the timeout');
    await until('the remote process is gone', () => lab.processes('client', 'sleep 3003').length === 0, 3000);
  });

  test('upload and download round trip, creating folders and keeping the mode', async () => {
    const c = connect({});
    const local = path.join(lab.dir, 'payload.bin');
    fs.writeFileSync(local, randomBytes(3 * 1024 * 1024 + 17));
    fs.chmodSync(local, 0o755);
    const remote = path.join(lab.dir, 'remote', 'sub', 'payload.bin');
    await c.upload(local, remote);
    const r = await c.exec(['stat', '-c', '%a %s', remote], { timeoutMs: 10_000 });
    assert.equal(r.stdout.trim(), `755 ${fs.statSync(local).size}`);
    const back = path.join(lab.dir, 'back', 'payload.bin');
    await c.download(remote, back);
    assert.ok(fs.readFileSync(back).equals(fs.readFileSync(local)));
    await assert.rejects(c.download('/nonexistent/file', back), /could not download \/nonexistent\/file/);
  });

  test('keep-alives notice a host that stopped answering; the next call connects again', async () => {
    const c = connect({}, { keepaliveMs: 500 });
    const before = lab.sessions('client');
    assert.equal((await c.exec(['true'], { timeoutMs: 10_000 })).code, 0);
    const mine = lab.sessions('client').filter((p) => !before.includes(p));
    assert.equal(mine.length, 1);
    process.kill(mine[0], 'SIGSTOP');
    try {
      // A command on the frozen host ends by its timeout; the connection is declared dead after three unanswered keep-alives.
      const hung = await c.exec(['true'], { timeoutMs: 1000 });
      assert.equal(hung.timedOut, true);
      await sleep(2500);
      const r = await c.exec(['echo', 'alive'], { timeoutMs: 15_000 });
      assert.equal(r.stdout, 'alive\n');
    } finally {
      process.kill(mine[0], 'SIGKILL');
    }
  });

  test('the next call after the server dropped the connection reconnects', async () => {
    const c = connect({});
    assert.equal((await c.exec(['true'], { timeoutMs: 10_000 })).code, 0);
    assert.ok(lab.dropSessions('client') >= 1);
    const r = await c.exec(['echo', 'again'], { timeoutMs: 15_000 });
    assert.equal(r.stdout, 'again\n');
    lab.dropSessions('client');
    await sleep(300);
    assert.equal((await c.exec(['echo', 'and again'], { timeoutMs: 15_000 })).stdout, 'and again\n');
  });
});
