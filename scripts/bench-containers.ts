// Prints how long the container testbed takes to come up (cold: images built from their recipes; warm: images
// there, containers and networks made from scratch), and the forwarding throughput through the model container
// relative to the model namespace, in interleaved rounds. Figures, not pass/fail: this machine's speed drifts.
//
//   npm run bench:containers [-- --cold] [-- --rounds N]
//   --cold removes the workbench's images first, so the first `up` rebuilds them (minutes; the package cache stays).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Docker from 'dockerode';
import { openTestbed } from '../extension/core/backends/open';
import type { Backend } from '../extension/core/backends/backend';
import { builtImages } from '../extension/core/backends/docker/images';
import { runBenchmarks } from '../extension/core/bench/runner';
import { ResultsStore } from '../extension/core/results/store';
import { describe } from '../extension/core/results/stats';

const WARM_CYCLES = 5;
const DURATION_S = 5;
const args = process.argv.slice(2);
const rounds = Number(args[args.indexOf('--rounds') + 1]) || 5;

function workspace(name: string, testbed: Record<string, unknown>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `hs-${name}-`));
  fs.writeFileSync(path.join(dir, 'hypershield.testbed.json'), JSON.stringify({ name, ...testbed }));
  return dir;
}

const fmt = (xs: number[], unit: string, digits = 0) => {
  const s = describe(xs);
  return `median ${s.median.toFixed(digits)} ${unit} (min ${s.min.toFixed(digits)}, max ${s.max.toFixed(digits)}, n ${s.n})`;
};

async function timed(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** One iperf3 measurement through the model host. */
async function forwarding(backend: Backend, ws: string): Promise<number> {
  const run = await runBenchmarks(backend, { benchmarks: ['iperf3'], modes: ['model'], repetitions: 1, warmup: 0, durationS: DURATION_S }, { workspace: ws, store: new ResultsStore(ws) });
  const m = run.results.find((r) => r.metrics.throughput);
  if (!m) throw new Error(`No throughput measured on ${backend.testbed.name}: ${run.reason ?? run.results.map((r) => r.error).join('; ')}`);
  return m.metrics.throughput.value;
}

async function main(): Promise<void> {
  const dockerWs = workspace('dkbc', { backend: 'docker', subnets: { client: '198.18.131.0/24', server: '198.18.132.0/24', direct: '198.18.133.0/24' } });
  const netnsWs = workspace('dkbn', { backend: 'netns' });
  const docker = new Docker();
  try {
    if (args.includes('--cold')) {
      for (const image of await builtImages(docker)) await docker.getImage(image).remove();
      const cold = await timed(() => openTestbed(dockerWs).up({ progress: { report: (m) => process.stderr.write(`  ${m}\n`) } }));
      await openTestbed(dockerWs).down();
      console.log(`cold up (images built from the recipes): ${(cold / 1000).toFixed(1)} s`);
    } else {
      console.log('cold up: skipped (--cold removes and rebuilds the images: minutes)');
    }
    // Each warm cycle is a new process's view: a new backend, connection made on first use.
    await openTestbed(dockerWs).up();
    await openTestbed(dockerWs).down();
    const up: number[] = [];
    const down: number[] = [];
    for (let i = 0; i < WARM_CYCLES; i++) {
      up.push(await timed(() => openTestbed(dockerWs).up()));
      down.push(await timed(() => openTestbed(dockerWs).down()));
    }
    console.log(`warm up:   ${fmt(up, 'ms')}   goal < 3000 ms`);
    console.log(`warm down: ${fmt(down, 'ms')}`);

    const containers = openTestbed(dockerWs);
    const namespaces = openTestbed(netnsWs);
    await containers.up();
    await namespaces.up();
    const ratios: number[] = [];
    const abs = { docker: [] as number[], netns: [] as number[] };
    for (let r = 0; r < rounds; r++) {
      // ABBA: neither path always runs first.
      const order = r % 2 === 0 ? (['docker', 'netns'] as const) : (['netns', 'docker'] as const);
      const got: Record<string, number> = {};
      for (const kind of order) got[kind] = await forwarding(kind === 'docker' ? containers : namespaces, kind === 'docker' ? dockerWs : netnsWs);
      abs.docker.push(got.docker);
      abs.netns.push(got.netns);
      ratios.push(got.docker / got.netns);
      console.log(`round ${r + 1}: container ${got.docker.toFixed(2)} Gbit/s, namespace ${got.netns.toFixed(2)} Gbit/s, ratio ${(got.docker / got.netns).toFixed(2)}`);
    }
    console.log(`forwarding through the model, one TCP stream, ${DURATION_S} s each, ${rounds} interleaved rounds:`);
    console.log(`  container path: ${fmt(abs.docker, 'Gbit/s', 2)}`);
    console.log(`  namespace path: ${fmt(abs.netns, 'Gbit/s', 2)}`);
    console.log(`  container / namespace: ${fmt(ratios, '', 2)}`);
  } finally {
    await openTestbed(dockerWs).down().catch(() => undefined);
    await openTestbed(netnsWs).down().catch(() => undefined);
    fs.rmSync(dockerWs, { recursive: true, force: true });
    fs.rmSync(netnsWs, { recursive: true, force: true });
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
