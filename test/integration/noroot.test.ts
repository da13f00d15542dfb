// The workbench as an ordinary user (CI runs as root and makes one): the namespace testbed, the user-space model and
// a benchmark run with no privileges at all; the eBPF model after `sudo hypershield setup`, through the root helper;
// misuse of the helper by a member of its group, refused with nothing changed; and `setup --undo` restoring the
// machine as it was.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HELPER_PATH, SUDOERS_FILE } from '../../extension/core/privileged/protocol';
import { testbedRunDir } from '../../extension/core/testbed/testbed';

const root = path.resolve(__dirname, '..', '..');
const suffix = Math.random().toString(36).slice(2, 7).replace(/^\d/, 'x');
const USER = `nrt${suffix}`;
const TESTBED = `nr${suffix}`;
/** The system files setup changes, compared before setup and after --undo. */
const SYSTEM_FILES = ['/etc/group', '/etc/gshadow'];

/** A copy of the built workbench that any user can read (the checkout may lie in root's home). */
const pkg = fs.mkdtempSync(path.join(os.tmpdir(), 'nr-pkg-'));
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'nr-home-'));
const ws = path.join(home, 'ws');
const cliJs = path.join(pkg, 'dist', 'cli.js');

function asUser(argv: string[], cwd = home): SpawnSyncReturns<string> {
  // The environment of a login: an ordinary user's PATH has no /usr/sbin (where sysctl, iptables and tc live).
  return spawnSync('runuser', ['-u', USER, '--', 'env', '-i', `HOME=${home}`, `USER=${USER}`, 'PATH=/usr/local/bin:/usr/bin:/bin', ...argv], { cwd, encoding: 'utf8', timeout: 300_000 });
}
/** The CLI as the user; fails the test with its output unless it exits as expected. */
function cli(args: string[], expectCode = 0): SpawnSyncReturns<string> {
  const r = asUser([process.execPath, cliJs, '-w', ws, ...args]);
  assert.equal(r.status, expectCode, `hypershield ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r;
}
const status = () => JSON.parse(cli(['status', '--json']).stdout) as { state: string; deployed?: { placement: string }; hosts: Array<{ detail?: string }> };
const uid = () => Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' }));
const holderPid = () => (JSON.parse(fs.readFileSync(path.join(ws, '.hypershield', 'state', `${TESTBED}.json`), 'utf8')) as { objects: Array<{ kind: string; pid?: string }> })
  .objects.find((o) => o.kind === 'userns')!.pid!;

/** Paths under dir not owned by the user (every file the workbench writes must be theirs). */
function notOwned(dir: string, owner: number): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => path.join(dir, f)).filter((f) => fs.lstatSync(f).uid !== owner);
}

function systemSnapshot(): Record<string, string> {
  const snap: Record<string, string> = {};
  for (const f of SYSTEM_FILES) snap[f] = fs.readFileSync(f, 'utf8');
  snap['sudoers.d'] = fs.readdirSync('/etc/sudoers.d').sort().join(',');
  snap.libexec = String(fs.existsSync(path.dirname(path.dirname(HELPER_PATH))));
  snap.helper = String(fs.existsSync(HELPER_PATH));
  return snap;
}

describe('as an ordinary user', () => {
  let beforeSetup: Record<string, string>;

  before(() => {
    execFileSync('node', ['scripts/build.mjs'], { cwd: root });
    fs.cpSync(path.join(root, 'dist'), path.join(pkg, 'dist'), { recursive: true });
    fs.cpSync(path.join(root, 'native-templates'), path.join(pkg, 'native-templates'), { recursive: true });
    fs.cpSync(path.join(root, 'scripts', 'demo.mjs'), path.join(pkg, 'scripts', 'demo.mjs'));
    fs.chmodSync(pkg, 0o755);
    execFileSync('useradd', ['-M', '-d', home, '-s', '/bin/sh', USER]);
    fs.mkdirSync(ws);
    fs.writeFileSync(path.join(ws, 'hypershield.testbed.json'), JSON.stringify({ name: TESTBED, backend: 'netns' }));
    execFileSync('chown', ['-R', `${USER}:${USER}`, home]);
    beforeSetup = systemSnapshot();
  });

  after(() => {
    asUser([process.execPath, cliJs, '-w', ws, 'down']);
    if (fs.existsSync(HELPER_PATH)) spawnSync(process.execPath, [cliJs, 'setup', '--undo']);
    spawnSync('pkill', ['-KILL', '-u', USER]);
    spawnSync('userdel', [USER]);
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(pkg, { recursive: true, force: true });
  });

  test('without setup: the testbed, the user-space model and a benchmark run need no privileges; eBPF names the setup', () => {
    const doctor = cli(['doctor', '--features', 'testbed,bench']);
    assert.match(doctor.stdout, /ok +namespace testbed: in a user namespace/);
    assert.match(doctor.stdout, /no +ebpf placement: .*sudo hypershield setup --user/);
    cli(['up']);
    assert.equal(status().state, 'up');
    for (const h of status().hosts) assert.match(h.detail ?? '', new RegExp(`in a user namespace of ${USER}$`));
    // The namespaces are the testbed's own: this machine's list does not show them.
    assert.doesNotMatch(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }), new RegExp(`hs-${TESTBED}-`));

    cli(['new', 'model', '--placement', 'all']);
    assert.match(cli(['deploy', 'model', '--placement', 'user']).stdout, /counted \d+ packets/);
    const bench = cli(['bench', '--benchmarks', 'iperf3,ping', '--reps', '1', '--warmup', '0', '--duration', '1']);
    assert.match(bench.stdout, /\(complete\)/);
    assert.equal(status().deployed?.placement, 'user');

    const ebpf = cli(['deploy', 'model', '--placement', 'ebpf'], 1);
    assert.match(ebpf.stderr, /needs privileges this user lacks.*sudo hypershield setup --user/s);
    assert.equal(status().deployed?.placement, 'user', 'the refused deploy changed nothing');
    assert.deepEqual(notOwned(ws, uid()), []);
    assert.deepEqual(notOwned(testbedRunDir(TESTBED, uid()), uid()), []);
  });

  test('after setup: the eBPF model through the helper, measured, and every file still the user\'s', () => {
    execFileSync(process.execPath, [cliJs, 'setup', '--user', USER]);
    assert.match(fs.readFileSync(SUDOERS_FILE, 'utf8'), new RegExp(`^%hypershield ALL=\\(root\\) NOPASSWD: ${HELPER_PATH}$`, 'm'));
    assert.equal(fs.statSync(HELPER_PATH).uid, 0);
    assert.equal(fs.statSync(HELPER_PATH).mode & 0o022, 0, 'nobody but root can change the helper');
    assert.match(cli(['doctor', '--features', 'testbed']).stdout, /ok +ebpf placement: through the HyperShield helper/);

    assert.match(cli(['deploy', 'model', '--placement', 'ebpf']).stdout, /Deployed the ebpf model .*counted \d+ packets/);
    const bench = cli(['bench', '--benchmarks', 'ping', '--reps', '1', '--warmup', '0', '--duration', '1']);
    assert.match(bench.stdout, /ping +ebpf/);
    assert.equal(status().deployed?.placement, 'ebpf');
    cli(['undeploy']);
    assert.equal(status().deployed, undefined);
    assert.deepEqual(notOwned(ws, uid()), []);
    assert.deepEqual(notOwned(testbedRunDir(TESTBED, uid()), uid()), []);
  });

  test('the helper refuses misuse by a member of its group, each time with a clear error, and changes nothing', (t) => {
    const holder = holderPid();
    const runDir = testbedRunDir(TESTBED, uid());
    const inModel = (...argv: string[]) => asUser(['nsenter', '--target', holder, '--user', '--mount', '--net', '--preserve-credentials', '--',
      'ip', 'netns', 'exec', `hs-${TESTBED}-model`, ...argv]).stdout;
    const snapshot = () => [inModel('tc', 'qdisc', 'show'), inModel('tc', 'filter', 'show', 'dev', 'to-client', 'ingress'),
      inModel('tc', 'filter', 'show', 'dev', 'to-server', 'ingress'), fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('hypershield-helper-')).join(',')];
    const config = ['pattern=4853', 'action=drop', 'flowTimeout=30'];

    // A namespace under the testbed's name that is not in the user's user namespace: one root made on this machine,
    // shown through a process of the user's in the machine's own namespaces.
    const foreign = `nrf${suffix}`;
    execFileSync('ip', ['netns', 'add', `hs-${foreign}-model`]);
    t.after(() => spawnSync('ip', ['netns', 'del', `hs-${foreign}-model`]));
    const decoy = spawnSync('runuser', ['-u', USER, '--', 'sh', '-c', 'sleep 60 >/dev/null 2>&1 & echo $!'], { encoding: 'utf8' }).stdout.trim();
    t.after(() => spawnSync('kill', [decoy]));
    // Links out of the run folder: the model file itself, and a folder on the way, to root's files.
    const rootDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nr-root-'));
    fs.writeFileSync(path.join(rootDir, 'x.o'), 'root only');
    fs.writeFileSync(path.join(rootDir, 'x.ko'), 'root only');
    t.after(() => fs.rmSync(rootDir, { recursive: true, force: true }));
    asUser(['mkdir', '-p', `${runDir}/model`]);
    asUser(['ln', '-s', '/etc/shadow', `${runDir}/model/link.o`]);
    asUser(['ln', '-s', rootDir, `${runDir}/escape`]);
    fs.writeFileSync('/tmp/nr-evil.ko', 'not a module');
    t.after(() => fs.rmSync('/tmp/nr-evil.ko', { force: true }));

    const tb = `testbed=${TESTBED}`;
    const h = `holder=${holder}`;
    const cases: Array<[string[], RegExp]> = [
      [['ebpf-counters', `testbed=${TESTBED};id`, h], /testbed must match pattern .*got "nr\w+;id"/],
      [['ebpf-counters', 'testbed=$(reboot)', h], /testbed must match pattern/],
      [['ebpf-attach', tb, h, `object=${runDir}/model/\`id\`.o`, ...config], /object must match pattern/],
      [['ebpf-attach', tb, h, `object=${runDir}/model/../../../../etc/x.o`, ...config], /not a plain absolute path \(no "\.\."/],
      [['ebpf-attach', tb, h, `object=${runDir}/model/link.o`, ...config], /link\.o is not a regular file of user/],
      [['ebpf-attach', tb, h, `object=${runDir}/escape/x.o`, ...config], /leads to .*x\.o \(a link on the way\)/],
      [['ebpf-attach', tb, h, `object=${runDir}/model/ebpf_model.o`, ...config, 'interface=eth0'], /unknown argument interface/],
      [['ebpf-attach', tb, h, `object=${runDir}/model/ebpf_model.o`, 'pattern=zz', 'action=drop', 'flowTimeout=30'], /pattern must match pattern/],
      [['module-load', tb, h, 'object=/tmp/nr-evil.ko', ...config], /outside the run folder of testbed/],
      [['module-load', tb, h, `object=${runDir}/escape/x.ko`, ...config], /leads to|outside/],
      [['ebpf-counters', tb, 'holder=1'], /process 1 is not a running process of user/],
      [['ebpf-counters', `testbed=${foreign}`, `holder=${decoy}`], /not in a user namespace of user .*kernel refused/],
      [['ebpf-counters', 'testbed=nrnothere', h], /has no namespace hs-nrnothere-model/],
      [['shell', 'command=id'], /unknown operation "shell"/],
      [[], /unknown operation ""/],
    ];
    const before = snapshot();
    for (const [args, why] of cases) {
      const r = asUser(['sudo', '-n', HELPER_PATH, ...args]);
      assert.equal(r.status, 2, `helper ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
      assert.match(r.stderr, /^hypershield helper: refused: /, args.join(' '));
      assert.match(r.stderr, why, args.join(' '));
    }
    // Run without sudo, the helper is the user's own process: it does nothing.
    const direct = asUser([HELPER_PATH, 'ebpf-counters', tb, h]);
    assert.equal(direct.status, 2);
    assert.match(direct.stderr, /works only as root, through sudo/);
    // sudo lets the group run the helper and nothing else.
    assert.notEqual(asUser(['sudo', '-n', '/bin/true']).status, 0);
    assert.deepEqual(snapshot(), before, 'no refused call changed the testbed or left files');
    if (fs.existsSync('/proc/modules')) assert.doesNotMatch(fs.readFileSync('/proc/modules', 'utf8'), /^kernel_space /m);
  });

  test('the demo runs as the user and leaves nothing behind', () => {
    const demo = path.join(home, 'demo');
    const r = asUser([process.execPath, path.join(pkg, 'scripts', 'demo.mjs'), demo, `nr${suffix}d`]);
    assert.equal(r.status, 0, `demo exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /Report: +.*report\.html/);
    assert.equal(fs.readdirSync(path.join(demo, '.hypershield', 'results')).filter((f) => f.endsWith('.json')).length, 1);
    assert.deepEqual(notOwned(demo, uid()), []);
    assert.equal(fs.existsSync(testbedRunDir(`nr${suffix}d`, uid())), false);
  });

  test('down removes everything; setup --undo leaves the machine as it was before setup', () => {
    cli(['down']);
    assert.equal(status().state, 'down');
    assert.equal(fs.existsSync(testbedRunDir(TESTBED, uid())), false);
    assert.deepEqual(spawnSync('pgrep', ['-u', USER]).stdout.toString().trim(), '', 'no process of the user is left');
    execFileSync(process.execPath, [cliJs, 'setup', '--undo']);
    assert.deepEqual(systemSnapshot(), beforeSetup);
    // A second undo finds nothing to do.
    execFileSync(process.execPath, [cliJs, 'setup', '--undo']);
    assert.deepEqual(systemSnapshot(), beforeSetup);
  });
});
