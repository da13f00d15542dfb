import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { openTestbed } from '../../core/backends/open';
import { runBenchmarks } from '../../core/bench/runner';
import { BENCHMARKS } from '../../core/bench/registry';
import { attribution, formatAttribution } from '../../core/bench/attribution';
import { ResultsStore } from '../../core/results/store';
import { compareTable, summaryTable, toCsv } from '../../core/results/table';
import { reportHtml } from '../../core/results/report-html';
import { PLACEMENTS, type Placement } from '../../core/results/run-file';
import { MODES, type Mode } from '../../core/testbed/testbed';
import { runDoctor, installMissing, type Feature } from '../../core/doctor';
import { writeFileAtomic } from '../../core/util/atomic-file';
import { preparePlacement as prepareModelPlacement } from '../../core/model/placement';
import type { WorkOptions } from '../../core/backends/backend';
import type { Register } from '../main';

function list<T extends string>(value: string, allowed: readonly T[], option: string): T[] {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const i of items) if (!allowed.includes(i as T)) throw new Error(`${option}: unknown value "${i}"; use any of ${allowed.join(', ')}.`);
  return items as T[];
}

function int(value: string, option: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`${option} needs a number (got "${value}").`);
  return n;
}

export const registerBenchCommands: Register = (program: Command, ctx) => {
  program.command('bench').description('run benchmarks direct vs through the model host, with repetitions and statistics')
    .option('--benchmarks <list>', `comma-separated: ${BENCHMARKS.map((b) => b.id).join(',')}`, 'iperf3,ping')
    .option('--modes <list>', 'comma-separated: direct,model', 'direct,model')
    .option('--placements <list>', `deploy each in turn: ${PLACEMENTS.join(',')} (default: whatever is deployed now)`)
    .option('--model <dir>', 'model project to build and deploy for --placements', '.')
    .option('--reps <n>', 'recorded repetitions per benchmark, mode and placement', '3')
    .option('--warmup <n>', 'unrecorded warm-up repetitions', '1')
    .option('--duration <s>', 'seconds per measurement', '10')
    .option('--json', 'print the run file instead of the table')
    .option('--profile', 'count what the model host does during each measurement (perf stat, softirq time, the harness\'s own CPU share)')
    .action(async (o: { benchmarks: string; modes: string; placements?: string; model: string; reps: string; warmup: string; duration: string; json?: boolean; profile?: boolean }) => {
      const c = ctx();
      const backend = openTestbed(c.workspace);
      const store = new ResultsStore(c.workspace);
      const placements = o.placements ? list<Placement>(o.placements, PLACEMENTS, '--placements') : undefined;
      const modelDir = path.resolve(c.workspace, o.model);
      const preparePlacement = placements ? (p: Placement, w: WorkOptions) => prepareModelPlacement(backend, modelDir, p, w) : undefined;
      const run = await runBenchmarks(backend, {
        benchmarks: list(o.benchmarks, BENCHMARKS.map((b) => b.id), '--benchmarks'),
        modes: list<Mode>(o.modes, MODES, '--modes'),
        placements,
        repetitions: int(o.reps, '--reps'),
        warmup: int(o.warmup, '--warmup'),
        durationS: int(o.duration, '--duration'),
      }, { workspace: c.workspace, store, signal: c.signal, progress: c.progress, preparePlacement, profile: o.profile });
      if (o.json) c.out(JSON.stringify(run, null, 2));
      else {
        const headlines = BENCHMARKS.filter((b) => run.metadata.plan.benchmarks.includes(b.id)).map((b) => b.headline);
        c.out(summaryTable(run, [...new Set(['throughput', 'retransmits', 'rttAvg', 'loss', ...headlines])]));
        if (o.profile) c.out(`\nModel host (--profile):\n${formatAttribution(attribution(run.results))}`);
        c.out(`\nRun ${run.id} (${run.status}${run.reason ? `: ${run.reason}` : ''}): ${store.fileOf(run.id)}`);
      }
      if (run.status !== 'complete') process.exitCode = 130;
    });

  program.command('report').description('show a run (default: the newest) as a table, HTML or CSV')
    .argument('[run]', 'run id or file')
    .option('--html <file>', 'write one self-contained HTML file with charts')
    .option('--csv <file>', 'write one row per measurement')
    .option('--compare <run>', 'compare with another run (table, or both runs in the HTML report)')
    .option('--list', 'list all runs')
    .action((id: string | undefined, o: { html?: string; csv?: string; compare?: string; list?: boolean }) => {
      const c = ctx();
      const store = new ResultsStore(c.workspace);
      if (o.list) {
        const { runs, skipped } = store.list();
        for (const r of runs) c.out(`${r.id}  ${r.run.status.padEnd(10)}  ${r.run.metadata.plan.benchmarks.join(',')}  ${r.run.metadata.plan.placements.join(',')}  ${r.run.results.length} measurements`);
        for (const s of skipped) process.stderr.write(`skipped ${s}\n`);
        return;
      }
      const run = id ? store.read(id) : store.latest();
      if (!run) throw new Error(`No runs in ${store.dir}: run \`hypershield bench\` first.`);
      if (o.html) writeOut(o.html, reportHtml(run, o.compare ? store.read(o.compare) : undefined), c.out);
      if (o.csv) writeOut(o.csv, toCsv(run), c.out);
      if (o.compare && !o.html) c.out(compareTable(run, store.read(o.compare)));
      else if (!o.html && !o.csv) {
        c.out(`Run ${run.id} (${run.status}${run.reason ? `: ${run.reason}` : ''}), ${run.metadata.startedAt}, testbed ${run.metadata.testbed.name} (${run.metadata.testbed.backend})${run.metadata.emulated ? ', EMULATED hosts' : ''}`);
        c.out(summaryTable(run));
      }
    });

  program.command('doctor').description('list missing prerequisites with their Debian packages')
    .option('--install', 'install what is missing with apt-get (root)')
    .option('--features <list>', 'only these: testbed,bench,build,kernel,ebpf,perf,docker,qemu')
    .action(async (o: { install?: boolean; features?: string }) => {
      const c = ctx();
      const features = o.features ? list<Feature>(o.features, ['testbed', 'bench', 'build', 'kernel', 'ebpf', 'perf', 'docker', 'qemu'], '--features') : undefined;
      let { findings, privileged } = await runDoctor(features);
      if (o.install) {
        const installed = await installMissing(findings, (s) => process.stderr.write(s));
        if (installed.length) c.out(`Installed: ${installed.join(' ')}`);
        ({ findings, privileged } = await runDoctor(features));
      }
      for (const f of findings) c.out(`${f.ok ? 'ok     ' : 'MISSING'}  ${f.feature.padEnd(8)} ${f.what}${f.ok ? '' : `  (apt-get install ${f.pkg})`}`);
      c.out(`${privileged ? 'ok     ' : 'MISSING'}  testbed  root or CAP_NET_ADMIN${privileged ? '' : '  (run as root)'}`);
      const missing = findings.filter((f) => !f.ok);
      if (missing.length || !privileged) process.exitCode = 1;
    });
};

function writeOut(file: string, text: string, out: (s: string) => void): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeFileAtomic(path.resolve(file), text);
  out(`Wrote ${path.resolve(file)}`);
}
