// kill -9 of the CLI in the middle of `up` and of a benchmark run: `down` afterwards still removes everything.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { CLI, tempWorkspace } from '../helpers/workspace';
import { docker, engineObjects, ensureDockerd } from '../helpers/dockerd';
import { pollUntil } from '../../extension/core/util/poll';
import { ensureImage, readRecipe } from '../../extension/core/backends/docker/images';
import { LABELS } from '../../extension/core/backends/docker/labels';

const ws = tempWorkspace('dkk', { backend: 'docker', subnets: { client: '198.18.121.0/24', server: '198.18.122.0/24', direct: '198.18.123.0/24' } });
let stopDockerd: () => Promise<void> = async () => undefined;

/** The CLI as ONE process (the tsx wrapper would run it in a child that outlives a kill of the wrapper). */
function startCli(...args: string[]): { pid: number; output: () => string; exited: Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI[1], '-w', ws.dir, ...args], { cwd: path.join(__dirname, '..', '..'), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  return { pid: child.pid!, output: () => output, exited: new Promise((resolve) => child.once('exit', () => resolve())) };
}

const cli = (...args: string[]) => execFileSync(CLI[0], [CLI[1], '-w', ws.dir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** What is left of the testbed: engine objects, the state file, and processes on this machine that name its containers or addresses. */
async function leftovers(): Promise<string[]> {
  const processes = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' }).split('\n').filter((l) => /hs-dkk-|198\.18\.12[123]\./.test(l) && !/ps -eo/.test(l));
  return [...(await engineObjects('dkk')), ...(ws.backend().state.read() ? ['state file'] : []), ...processes];
}

describe('container testbed after kill -9 of the CLI', () => {
  before(async () => {
    stopDockerd = await ensureDockerd();
    // Built beforehand, so the kill lands in creating containers, not in a first image build.
    for (const r of ['endpoint', 'model']) await ensureImage(docker, readRecipe(r));
  });
  after(async () => {
    await ws.cleanup();
    await stopDockerd();
  });

  test('during up: down removes the containers and networks it had made', async () => {
    const up = startCli('up');
    await pollUntil(async () => ((await docker.listContainers({ all: true, filters: { label: [`${LABELS.testbed}=dkk`] } })).length ? true : undefined),
      { timeoutMs: 120_000, intervalMs: 20, onTimeout: () => new Error(`up created no container:\n${up.output()}`) });
    process.kill(up.pid, 'SIGKILL');
    await up.exited;
    assert.notDeepEqual(await engineObjects('dkk'), [], 'the kill left a half-made testbed');
    cli('down');
    assert.deepEqual(await leftovers(), []);
  });

  test('a testbed left by a workspace that no longer exists is removed by the next up', async () => {
    const image = readRecipe('endpoint').image;
    await docker.createNetwork({ Name: 'hs-dkk-direct', Labels: { [LABELS.testbed]: 'dkk', [LABELS.owner]: '/nonexistent/hs-dkk-gone' } });
    await docker.createContainer({ name: 'hs-dkk-client', Image: image, Cmd: ['true'], Labels: { [LABELS.testbed]: 'dkk', [LABELS.owner]: '/nonexistent/hs-dkk-gone' } });
    const up = spawnSync(CLI[0], [CLI[1], '-w', ws.dir, 'up'], { encoding: 'utf8' });
    assert.equal(up.status, 0, up.stderr);
    assert.match(up.stderr, /Removing container hs-dkk-client of the workspace \/nonexistent\/hs-dkk-gone, which no longer exists/);
    cli('down');
    assert.deepEqual(await leftovers(), []);
  });

  test('during a benchmark run: down removes everything, the run\'s processes included', async () => {
    cli('up');
    const bench = startCli('bench', '--benchmarks', 'iperf3', '--modes', 'model', '--reps', '1', '--warmup', '0', '--duration', '30');
    await pollUntil(async () => (/iperf3 -c/.test((await docker.getContainer('hs-dkk-client').top({ ps_args: '-eo pid,args' })).Processes.flat().join('\n')) ? true : undefined),
      { timeoutMs: 120_000, intervalMs: 100, onTimeout: () => new Error(`no iperf3 client started:\n${bench.output()}`) });
    process.kill(bench.pid, 'SIGKILL');
    await bench.exited;
    cli('down');
    assert.deepEqual(await leftovers(), []);
  });
});
