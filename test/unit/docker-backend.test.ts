import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { engineTarget, engineClient, pingEngine } from '../../extension/core/backends/docker/engine';
import { aptSources, readRecipe } from '../../extension/core/backends/docker/images';
import { describeEvent } from '../../extension/core/backends/docker/events';
import { parseTestbed } from '../../extension/core/testbed/load';

const fixtures = path.join(__dirname, '..', 'fixtures', 'docker');

test('engine: the testbed setting wins over DOCKER_HOST, which wins over the default socket; ssh:// is refused for now', () => {
  const saved = process.env.DOCKER_HOST;
  try {
    delete process.env.DOCKER_HOST;
    assert.deepEqual(engineTarget(), { kind: 'unix', socketPath: '/var/run/docker.sock' });
    process.env.DOCKER_HOST = 'tcp://127.0.0.1:2375';
    assert.deepEqual(engineTarget(), { kind: 'tcp', host: '127.0.0.1', port: 2375 });
    assert.deepEqual(engineTarget('unix:///run/user/0/docker.sock'), { kind: 'unix', socketPath: '/run/user/0/docker.sock' });
    const ssh = engineTarget('ssh://me@builder');
    assert.equal(ssh.kind, 'ssh');
    assert.throws(() => engineClient(ssh), /reached over SSH, which the docker backend does not support yet/);
    assert.throws(() => engineTarget('npipe:////./pipe/docker'), /not supported/);
  } finally {
    if (saved === undefined) delete process.env.DOCKER_HOST; else process.env.DOCKER_HOST = saved;
  }
});

test('recipes: the image tag follows the package set, not its order, comments or duplicates', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-recipe-'));
  try {
    fs.writeFileSync(path.join(dir, 'a.packages'), '# tools\niperf3\niproute2 # links\n\niperf3\n');
    fs.writeFileSync(path.join(dir, 'b.packages'), 'iproute2\niperf3\n');
    fs.writeFileSync(path.join(dir, 'c.packages'), 'iproute2\niperf3\nnuttcp\n');
    fs.writeFileSync(path.join(dir, 'd.packages'), 'iproute2 iperf3\n');
    const [a, b, c] = ['a', 'b', 'c'].map((n) => readRecipe(n, dir));
    assert.deepEqual(a.packages, ['iperf3', 'iproute2']);
    assert.equal(a.hash, b.hash);
    assert.notEqual(a.hash, c.hash);
    assert.match(c.image, /^hypershield\/c:[0-9a-f]{12}$/);
    assert.throws(() => readRecipe('d', dir), /not Debian package names: iproute2 iperf3/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  // The shipped recipes parse.
  for (const r of ['endpoint', 'model']) assert.ok(readRecipe(r).packages.includes('iperf3'));
});

test('apt sources: the bookworm suites of a real deb822 file become mmdebstrap mirror lines', () => {
  assert.deepEqual(aptSources(path.join(fixtures, 'debian.sources')), [
    'deb http://deb.debian.org/debian bookworm main',
    'deb http://deb.debian.org/debian bookworm-updates main',
    'deb http://deb.debian.org/debian-security bookworm-security main',
  ]);
  assert.deepEqual(aptSources(path.join(fixtures, 'missing.sources')), ['deb http://deb.debian.org/debian bookworm main']);
});

test('engine events: real kill/die/start lines become changes naming the role and why', () => {
  const events = fs.readFileSync(path.join(fixtures, 'engine-events.jsonl'), 'utf8').trim().split('\n').map((l) => describeEvent(JSON.parse(l)));
  assert.deepEqual(events.slice(0, 3), [
    { role: 'server', what: 'container dk-ev: kill (signal 9)' },
    { role: 'server', what: 'container dk-ev: die (exit code 137)' },
    { role: 'server', what: 'container dk-ev: start' },
  ]);
  assert.equal(describeEvent({ Action: 'exec_start: ps' }), undefined);
});

test('testbed file: the docker settings validate (engine address, CPU sets), bad ones are refused with their path', () => {
  const tb = parseTestbed(JSON.stringify({
    name: 'lab', backend: 'docker', docker: { engine: 'unix:///run/docker.sock' },
    hosts: { client: { cpuset: '0' }, server: { cpuset: '1,3-4' }, model: { cpus: 2, memoryMiB: 1024 } },
  }), 'hypershield.testbed.json');
  assert.equal(tb.docker?.engine, 'unix:///run/docker.sock');
  assert.equal(tb.hosts.server?.cpuset, '1,3-4');
  assert.throws(() => parseTestbed(JSON.stringify({ name: 'lab', backend: 'docker', docker: { engine: 'docker.sock' } }), 'f.json'), /\/docker\/engine: must match pattern/);
  assert.throws(() => parseTestbed(JSON.stringify({ name: 'lab', backend: 'docker', hosts: { client: { cpuset: 'all' } } }), 'f.json'), /\/hosts\/client\/cpuset: must match pattern/);
});

test('engine: one that does not answer is named, with how to start it', async () => {
  const t = engineTarget('unix:///nonexistent/docker.sock');
  await assert.rejects(pingEngine(engineClient(t), t, 2000), /The Docker engine at unix:\/\/\/nonexistent\/docker\.sock does not answer \(.*\)\. Start it/);
});
