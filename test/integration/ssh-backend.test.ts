import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SshBackend } from '../../extension/core/backends/ssh-backend';
import { backendFor } from '../../extension/core/backends/open';
import { assertPath, checkPath } from '../../extension/core/bench/path-check';
import type { Role } from '../../extension/core/hosts/host';
import { parseTestbed } from '../../extension/core/testbed/load';
import { StateStore } from '../../extension/core/testbed/state';
import { testbedStatus } from '../../extension/core/testbed/status';
import { PLAIN_USER, SshdLab, SUDO_USER } from '../helpers/sshd';
import { CLI, namespaces } from '../helpers/workspace';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Three "existing machines": the hosts of a namespace testbed, each running sshd and reached only through a
 * ProxyCommand inside its namespace. The SSH backend then owns the routes, as it would on lab machines.
 */
describe('ssh backend end to end against three real sshd hosts', () => {
  const id = randomBytes(2).toString('hex');
  const lab = new SshdLab(`ssh-e${id}`);
  const sh = (role: Role, ...argv: string[]) => execFileSync('ip', ['netns', 'exec', lab.ns(role), ...argv], { encoding: 'utf8' }).trim();
  const interfaces = {
    client: { model: 'to-model', server: 'to-server' },
    model: { client: 'to-client', server: 'to-server' },
    server: { model: 'to-model', client: 'to-client' },
  };
  let sshConfig = '';
  const testbedFile = (trustServer?: string) => {
    const hosts = Object.fromEntries((['client', 'model', 'server'] as const).map((r) => [r, {
      sshHost: `${lab.name}-${r}`, interfaces: interfaces[r], ...(r === 'server' && trustServer ? { sshTrustFingerprint: trustServer } : {}),
    }]));
    const file = path.join(lab.dir, 'hypershield.testbed.json');
    return parseTestbed(JSON.stringify({ name: `ssh-b${id}`, backend: 'ssh', mode: 'model', hosts }), file);
  };
  const backends: SshBackend[] = [];
  const open = (trustServer?: string) => {
    const b = new SshBackend(testbedFile(trustServer), new StateStore(lab.dir, `ssh-b${id}`), { sshConfigFile: sshConfig });
    backends.push(b);
    return b;
  };

  before(async () => {
    await lab.start();
    // known_hosts knows the client and the model; the server's key is unknown until trusted.
    const kh = path.join(lab.dir, 'known_hosts');
    fs.writeFileSync(kh, `${lab.name}-client.lab ${lab.hostKeyLine('client')}\n${lab.name}-model.lab ${lab.hostKeyLine('model')}\n`);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', kh], { stdio: 'ignore' });
    sshConfig = path.join(lab.dir, 'ssh_config');
    fs.writeFileSync(sshConfig, (['client', 'model', 'server'] as const).map((r) => [
      `Host ${lab.name}-${r}`, `  HostName ${lab.name}-${r}.lab`, `  ProxyCommand ${lab.proxyCommand(r)}`,
    ].join('\n')).join('\n') + `\nHost *\n  User root\n  IdentityFile ${lab.userKey}\n  UserKnownHostsFile ${kh}\n  IdentityAgent none\n`);
    // What up must add and down must take away again: a missing address and forwarding turned off.
    sh('model', 'ip', 'addr', 'del', '198.18.1.1/24', 'dev', 'to-client');
    sh('model', 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=0');
  });
  after(async () => {
    for (const b of backends) await b.dispose();
    await lab.cleanup();
    assert.deepEqual(namespaces(`hs-${lab.name}-`), []);
  });

  test('the testbed file selects the ssh backend, which states what its hosts can do', () => {
    const b = backendFor(testbedFile(), lab.dir);
    assert.deepEqual({ ...b.capabilities, moduleLoading: undefined }, { ownKernel: true, moduleLoading: undefined, emulated: false, ownFileSystem: true, runsLocalBuilds: false, interactiveShell: true, createsHosts: false });
    assert.deepEqual(b.modelInterfaces, { client: 'to-client', server: 'to-server' });
    assert.deepEqual(b.host('client').shellArgv(), ['ssh', '-t', `${lab.name}-client`]);
  });

  test('up refuses an unknown host key with its fingerprint, and changes nothing', async () => {
    const b = open();
    await assert.rejects(b.up(), (err: Error) => {
      assert.match(err.message, /Unknown host key for server/);
      assert.ok(err.message.includes(lab.fingerprint('server')), err.message);
      return true;
    });
    assert.equal(b.state.read(), undefined);
    assert.equal(sh('model', 'sysctl', '-n', 'net.ipv4.ip_forward'), '0');
  });

  const routes = () => ({ client: sh('client', 'ip', 'route', 'show', 'exact', '198.18.2.0/24'), server: sh('server', 'ip', 'route', 'show', 'exact', '198.18.1.0/24') });
  let routesBefore: ReturnType<typeof routes>;

  test('with the fingerprint trusted: up, the path check passes in model and direct mode, status per host', async () => {
    // Start from the direct routes so model mode's routes are visibly the backend's work.
    sh('client', 'ip', 'route', 'replace', '198.18.2.0/24', 'via', '198.18.3.2', 'dev', 'to-server', 'src', '198.18.1.2');
    sh('server', 'ip', 'route', 'replace', '198.18.1.0/24', 'via', '198.18.3.1', 'dev', 'to-client', 'src', '198.18.2.2');
    routesBefore = routes();
    const b = open(lab.fingerprint('server'));
    await b.up();
    assert.equal(b.state.read()?.phase, 'up');
    assert.equal(b.capabilities.moduleLoading, fs.existsSync('/proc/modules'), 'module loading is what the model host\'s kernel offers');
    assert.equal(sh('model', 'sysctl', '-n', 'net.ipv4.ip_forward'), '1');
    assert.match(sh('model', 'ip', '-o', '-4', 'addr', 'show', 'dev', 'to-client'), /198\.18\.1\.1\/24/);
    assert.deepEqual(b.state.read()!.objects.map((o) => o.name).sort(), ['client:198.18.2.0/24', 'model:198.18.1.1/24', 'model:net.ipv4.ip_forward', 'server:198.18.1.0/24']);

    const model = await checkPath(b, 'model');
    assertPath(model);
    assert.ok(model.crossesModel, `${model.modelPackets} packets crossed the model`);
    assert.equal(model.replyTtl, 63);

    await b.setMode('direct');
    const direct = await checkPath(b, 'direct');
    assertPath(direct);
    assert.equal(direct.replyTtl, 64);
    assert.equal(b.state.read()!.mode, 'direct');
    await b.setMode('model');
    assertPath(await checkPath(b, 'model'));

    const s = await testbedStatus(b);
    assert.equal(s.state, 'up');
    assert.deepEqual(s.hosts.map((h) => [h.role, h.state, h.addresses.sort()]), [
      ['client', 'running', ['198.18.1.2/24', '198.18.3.1/24']],
      ['model', 'running', ['198.18.1.1/24', '198.18.2.1/24']],
      ['server', 'running', ['198.18.2.2/24', '198.18.3.2/24']],
    ]);
    await b.up();
    assert.equal(b.state.read()!.objects.length, 4, 'up twice changes nothing');
  });

  test('down (from a fresh process\'s backend) undoes exactly what was recorded; dispose closes the connections', async () => {
    const b = open(lab.fingerprint('server'));
    await b.down();
    assert.equal(b.state.read(), undefined);
    assert.deepEqual(routes(), routesBefore, 'the routes the hosts had before are back');
    assert.equal(sh('model', 'sysctl', '-n', 'net.ipv4.ip_forward'), '0');
    assert.doesNotMatch(sh('model', 'ip', '-o', '-4', 'addr', 'show', 'dev', 'to-client'), /198\.18\.1\.1/);
    assert.match(sh('model', 'ip', '-o', '-4', 'addr', 'show', 'dev', 'to-server'), /198\.18\.2\.1\/24/, 'what up did not add stays');
    await b.down();
    for (const x of backends) await x.dispose();
    for (let i = 0; i < 40 && (['client', 'model', 'server'] as const).some((r) => lab.sessions(r).length); i++) await sleep(50);
    assert.deepEqual((['client', 'model', 'server'] as const).map((r) => lab.sessions(r).length), [0, 0, 0]);
  });

  test('status when not up says down, with what it knows of each existing host', async () => {
    const s = await testbedStatus(open());
    assert.equal(s.state, 'down');
    assert.equal(s.mode, undefined);
    assert.deepEqual(s.hosts.map((h) => [h.role, h.state]), [['client', 'running'], ['model', 'running'], ['server', 'unreachable']]);
    assert.match(s.hosts[2].detail ?? '', /Unknown host key for server/);
    assert.ok(s.hosts[0].kernel, 'a reachable host shows its kernel');
    assert.deepEqual(s.hosts[1].addresses.sort(), ['198.18.2.1/24'], 'and its testbed addresses as they are');
    const trusted = await testbedStatus(open(lab.fingerprint('server')));
    assert.deepEqual([trusted.state, ...trusted.hosts.map((h) => h.state)], ['down', 'running', 'running', 'running']);
  });

  test('a dropped connection and a host that stops answering are reported as changes; dispose is not', async () => {
    const b = new SshBackend(testbedFile(lab.fingerprint('server')), new StateStore(lab.dir, `ssh-b${id}`), { sshConfigFile: sshConfig, keepaliveMs: 1000 });
    backends.push(b);
    const changes: Array<{ role?: Role; what: string }> = [];
    const stop = b.onDidChange((c) => changes.push(c));
    const waitFor = async (role: Role, ms: number) => {
      for (let t = 0; t < ms && !changes.some((c) => c.role === role); t += 50) await sleep(50);
      return changes.find((c) => c.role === role);
    };
    for (const role of ['client', 'server'] as const) assert.equal((await b.host(role).exec(['true'], { timeoutMs: 15_000 })).code, 0);

    assert.ok(lab.dropSessions('client') > 0);
    const dropped = await waitFor('client', 10_000);
    assert.match(dropped?.what ?? 'no change reported', /^client \(ssh .*\): the SSH connection was lost \(.+\); the next command connects again$/);

    const frozen = lab.sessions('server');
    for (const pid of frozen) process.kill(pid, 'SIGSTOP');
    try {
      const silent = await waitFor('server', 15_000);
      assert.match(silent?.what ?? 'no change reported', /^server .*the SSH connection was lost \(no answer to 3 keep-alive requests, 1 s apart\)/);
    } finally {
      for (const pid of frozen) process.kill(pid, 'SIGCONT');
    }
    assert.equal((await b.host('client').exec(['true'], { timeoutMs: 15_000 })).code, 0, 'the next command connects again');
    const before = changes.length;
    await b.dispose();
    stop();
    await sleep(200);
    assert.equal(changes.length, before, 'closing the connections on purpose is no change');
  });

  test('a login allowed `sudo -n` changes routes through sudo; a login with neither root nor sudo is told so before anything changes', async () => {
    const withUser = (role: Role, user: string) => {
      const tb = testbedFile(lab.fingerprint('server'));
      tb.hosts[role]!.sshUser = user;
      const b = new SshBackend(tb, new StateStore(lab.dir, `ssh-b${id}`), { sshConfigFile: sshConfig });
      backends.push(b);
      return b;
    };
    const plain = withUser('server', PLAIN_USER);
    await assert.rejects(plain.up(), new RegExp(`server .*the SSH user \\(uid 4243\\) is neither root nor allowed to run \`sudo -n\``));
    assert.equal(plain.state.read(), undefined);

    const sudo = withUser('client', SUDO_USER);
    assert.equal((await sudo.host('client').exec(['id', '-un'], { timeoutMs: 10_000 })).stdout.trim(), SUDO_USER);
    await sudo.up();
    assertPath(await checkPath(sudo, 'model'));
    await sudo.setMode('direct');
    assert.match(sh('client', 'ip', 'route', 'show', 'exact', '198.18.2.0/24'), /via 198\.18\.3\.2 dev to-server/);
    await sudo.down();
    assert.equal(sudo.state.read(), undefined);
  });

  test('the CLI, with ~/.ssh/config and ~/.ssh/known_hosts: up, status, mode, down; a key passphrase is asked on a terminal only', async () => {
    const home = path.join(lab.dir, 'home');
    fs.mkdirSync(path.join(home, '.ssh'), { recursive: true });
    fs.writeFileSync(path.join(home, '.ssh', 'known_hosts'), (['client', 'model', 'server'] as const).map((r) => `${lab.name}-${r}.lab ${lab.hostKeyLine(r)}\n`).join(''));
    const writeConfig = (identity: string) => fs.writeFileSync(path.join(home, '.ssh', 'config'), (['client', 'model', 'server'] as const).map((r) => [
      `Host ${lab.name}-${r}`, `  HostName ${lab.name}-${r}.lab`, `  ProxyCommand ${lab.proxyCommand(r)}`,
    ].join('\n')).join('\n') + `\nHost *\n  User root\n  IdentityFile ${identity}\n  IdentityAgent none\n`);
    writeConfig(lab.userKey);
    const ws = path.join(lab.dir, 'ws');
    fs.mkdirSync(ws);
    const tb = testbedFile();
    fs.writeFileSync(path.join(ws, 'hypershield.testbed.json'), JSON.stringify({ name: `ssh-c${id}`, backend: 'ssh', hosts: tb.hosts }));
    const env = { ...process.env, HOME: home, SSH_AUTH_SOCK: '' };
    const cli = (...args: string[]) => execFileSync(CLI[0], [CLI[1], '-w', ws, ...args], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.match(cli('up'), new RegExp(`Testbed ssh-c${id} \\(ssh\\) is up in model mode`));
    const status = JSON.parse(cli('status', '--json')) as { state: string; hosts: Array<{ state: string }> };
    assert.equal(status.state, 'up');
    assert.deepEqual(status.hosts.map((h) => h.state), ['running', 'running', 'running']);
    cli('mode', 'direct');
    assert.match(sh('client', 'ip', 'route', 'show', 'exact', '198.18.2.0/24'), /via 198\.18\.3\.2 dev to-server/);
    cli('mode', 'model');
    assert.match(sh('client', 'ip', 'route', 'show', 'exact', '198.18.2.0/24'), /via 198\.18\.1\.1 dev to-model/);
    assert.match(cli('down'), /is down/);
    assert.equal(sh('model', 'sysctl', '-n', 'net.ipv4.ip_forward'), '0');

    const locked = path.join(lab.dir, 'cli_locked_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-a', '2', '-N', 'open sesame', '-f', locked]);
    fs.appendFileSync(path.join(lab.dir, 'authorized_keys'), fs.readFileSync(`${locked}.pub`));
    writeConfig(locked);
    assert.throws(() => cli('up'), (err: Error & { stderr: string }) => {
      assert.match(err.stderr, /protected by a passphrase and nobody can be asked for it here.*ssh-add/s);
      return true;
    });
    // On a terminal (script(1) gives the CLI one) it asks once for the key all three hosts use.
    const argv = [CLI[0], CLI[1], '-w', ws, 'up'].map((a) => `'${a}'`).join(' ');
    const typed = execFileSync('script', ['-qec', argv, '/dev/null'], { env, encoding: 'utf8', input: 'open sesame\r' });
    assert.equal(typed.split(`Passphrase for ${locked}`).length - 1, 1, typed);
    assert.match(typed, /is up in model mode/);
    writeConfig(lab.userKey);
    cli('down');
  });

  test('down with a model host that stops answering: bounded, its other steps not tried, state kept for the next down', async () => {
    const b = open(lab.fingerprint('server'));
    await b.up();
    const model = b.state.read()!.objects.filter((o) => o.role === 'model');
    assert.equal(model.length, 2, 'the model host has two steps to undo (address, forwarding)');
    const frozen = lab.sessions('model');
    for (const pid of frozen) process.kill(pid, 'SIGSTOP');
    try {
      const t0 = Date.now();
      await assert.rejects(b.down(), (err: Error) => {
        assert.match(err.message, /did not finish within 15 s/);
        assert.match(err.message, /: not tried, since model .* did not answer/);
        return true;
      });
      const ms = Date.now() - t0;
      // One step waits out its 15 s bound; the other is not tried (it would wait 15 s more).
      assert.ok(ms < 27_000, `down took ${ms} ms`);
      assert.deepEqual(b.state.read()!.objects.map((o) => o.role), ['model', 'model'], 'the state file keeps what is left');
    } finally {
      for (const pid of frozen) process.kill(pid, 'SIGCONT');
    }
    await b.down();
    assert.equal(b.state.read(), undefined);
    assert.equal(sh('model', 'sysctl', '-n', 'net.ipv4.ip_forward'), '0');
  });

  test('direct mode without the client-server link is refused before anything changes', async () => {
    const tb = testbedFile(lab.fingerprint('server'));
    delete tb.hosts.client!.interfaces!.server;
    const b = new SshBackend({ ...tb, mode: 'direct' }, new StateStore(lab.dir, `ssh-b${id}`), { sshConfigFile: sshConfig });
    backends.push(b);
    await assert.rejects(b.up(), /Direct mode needs the client-server link: name it in hosts\.client\.interfaces\.server/);
    assert.equal(b.state.read(), undefined);
  });
});
