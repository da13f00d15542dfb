import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { runBenchmarks } from '../../core/bench/runner';
import { BENCHMARKS } from '../../core/bench/registry';
import { attribution, formatAttribution } from '../../core/bench/attribution';
import { formatHotSpots, hotSpots } from '../../core/results/hot-spots';
import { ResultsStore } from '../../core/results/store';
import { abLines, compareTable, driftLines, summaryTable, toCsv, warningLines } from '../../core/results/table';
import { parseHypervisorArm, runHypervisorAb } from '../../core/bench/hypervisor-ab';
import { loadTestbed } from '../../core/testbed/load';
import { parsePinOption } from '../../core/bench/pinning';
import { PLAN_DEFAULTS, parseCount, type RunPlan } from '../../core/bench/plan';
import { planWarnings } from '../../core/bench/warnings';
import { reportHtml } from '../../core/results/report-html';
import { latexTable, markdownTable, paperRows } from '../../core/results/paper-table';
import { createBundle, extractModels, readBundle, replayComparison } from '../../core/results/bundle';
import { PLACEMENTS, type Placement, type RunFile } from '../../core/results/run-file';
import { buildComparisonLines, compareBuilds, headlineChanges } from '../../core/results/build-regression';
import { MODES, type Mode } from '../../core/testbed/testbed';
import { runDoctor, installMissing, testbedAccessible, type Feature } from '../../core/doctor';
import { writeFileAtomic } from '../../core/util/atomic-file';
import { preparePlacement as prepareModelPlacement } from '../../core/model/placement';
import type { WorkOptions } from '../../core/backends/backend';
import type { Register } from '../main';

function list<T extends string>(value: string, allowed: readonly T[], option: string): T[] {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const i of items) if (!allowed.includes(i as T)) throw new Error(`${option}: unknown value "${i}"; use any of ${allowed.join(', ')}.`);
  return items as T[];
}

/** A commander parser of a whole-number plan field within the plan schema's limits. */
function count(field: 'repetitions' | 'warmup' | 'durationS'): (value: string) => number {
  return (value) => {
    try {
      return parseCount(field, value);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  };
}

export const registerBenchCommands: Register = (program: Command, ctx) => {
  program.command('bench').description('run benchmarks direct vs through the model host, with repetitions and statistics')
    .option('--benchmarks <list>', `comma-separated: ${BENCHMARKS.map((b) => b.id).join(',')}`, PLAN_DEFAULTS.benchmarks.join(','))
    .option('--modes <list>', 'comma-separated: direct,model', PLAN_DEFAULTS.modes.join(','))
    .option('--placements <list>', `deploy each in turn: ${PLACEMENTS.join(',')} (default: whatever is deployed now)`)
    .option('--model <dir>', 'model project to build and deploy for --placements', '.')
    .option('--reps <n>', 'recorded rounds: each measures every benchmark, mode and placement once', count('repetitions'), PLAN_DEFAULTS.repetitions)
    .option('--warmup <n>', 'unrecorded warm-up rounds', count('warmup'), PLAN_DEFAULTS.warmup)
    .option('--duration <s>', 'seconds per measurement', count('durationS'), PLAN_DEFAULTS.durationS)
    .option('--pin [role=cpus...]', 'pin client, server and model processes to CPUs with taskset, e.g. --pin client=0 server=1 model=1 (alone: automatic)')
    .option('--replay <bundle>', 'run the plan and models of a bundle (`hypershield bundle`) again on this testbed and compare')
    .option('--json', 'print the run file instead of the table')
    .option('--profile', 'count what the model host does during each measurement (perf stat, softirq time, the harness\'s own CPU share; perf record of the deployed model in model mode: its hot functions and lines)')
    .option('--hypervisor-b <role=program...>', 'qemu testbed, down: an A/B run of the testbed\'s QEMU (A) and these programs (B), e.g. model=/opt/qemu-b/bin/qemu-system-x86_64')
    .action(async (o: { benchmarks: string; modes: string; placements?: string; model: string; reps: number; warmup: number; duration: number; pin?: true | string[]; replay?: string; json?: boolean; profile?: boolean; hypervisorB?: string[] }) => {
      const c = ctx();
      const store = new ResultsStore(c.workspace);
      if (o.hypervisorB) {
        const plan: RunPlan = {
          benchmarks: list(o.benchmarks, BENCHMARKS.map((b) => b.id), '--benchmarks'), modes: list<Mode>(o.modes, MODES, '--modes'),
          repetitions: o.reps, warmup: o.warmup, durationS: o.duration,
        };
        warnAbout(plan, { ab: true });
        const run = await runHypervisorAb(loadTestbed(c.workspace), [{ name: 'A', hosts: {} }, parseHypervisorArm('B', o.hypervisorB)], plan,
          { workspace: c.workspace, store, signal: c.signal, progress: c.progress });
        if (o.json) c.out(JSON.stringify(run, null, 2));
        else {
          for (const arm of run.metadata.ab!.arms) c.out(`${arm.name}: ${Object.entries(arm.hypervisors).map(([role, h]) => `${role} ${h.path} (${h.version}, sha256 ${h.sha256.slice(0, 12)})`).join('; ')}`);
          for (const line of abLines(run)) c.out(`  ${line}`);
          c.out(`\nRun ${run.id} (${run.status}${run.metadata.emulated ? ', EMULATED hosts' : ''}): ${store.fileOf(run.id)}`);
        }
        return;
      }
      const backend = c.testbed();
      if (o.replay) {
        const bundle = readBundle(o.replay);
        const original = bundle.run;
        const folders = extractModels(bundle, path.join(c.workspace, '.hypershield', 'replay', original.id));
        c.progress.report(`Replaying run ${original.id} (${bundle.commandLine.join(' ')})`);
        warnAbout(original.metadata.plan);
        // Always a placement matrix, so "none" undeploys whatever this testbed has deployed, as the original measured.
        const run = await runBenchmarks(backend, original.metadata.plan, {
          workspace: c.workspace, store, signal: c.signal, progress: c.progress,
          replayOf: { run: original.id, bundle: path.resolve(o.replay) },
          preparePlacement: (p: Placement, w: WorkOptions) => {
            const dir = folders.get(p);
            if (p !== 'none' && !dir) throw new Error(`The bundle has no sources of the ${p} model that run ${original.id} measured.`);
            return prepareModelPlacement(backend, dir ?? c.workspace, p, w);
          },
        });
        if (o.json) c.out(JSON.stringify(run, null, 2));
        else {
          c.out(summaryTable(run));
          for (const line of [...driftLines(run), ...warningLines(run).map((w) => `warning: ${w}`)]) c.out(line);
          c.out(`\nCompared with the original run ${original.id} (${original.metadata.testbed.backend}, ${original.metadata.startedAt}):`);
          for (const line of replayComparison(original, run)) c.out(`  ${line}`);
          c.out(`\nRun ${run.id} (${run.status}${run.reason ? `: ${run.reason}` : ''}): ${store.fileOf(run.id)}`);
        }
        if (run.status !== 'complete') process.exitCode = 130;
        return;
      }
      const placements = o.placements ? list<Placement>(o.placements, PLACEMENTS, '--placements') : undefined;
      const modelDir = path.resolve(c.workspace, o.model);
      const preparePlacement = placements ? (p: Placement, w: WorkOptions) => prepareModelPlacement(backend, modelDir, p, w) : undefined;
      const plan: RunPlan = {
        benchmarks: list(o.benchmarks, BENCHMARKS.map((b) => b.id), '--benchmarks'),
        modes: list<Mode>(o.modes, MODES, '--modes'),
        placements,
        repetitions: o.reps,
        warmup: o.warmup,
        durationS: o.duration,
        ...(o.pin ? { pin: parsePinOption(o.pin === true ? [] : o.pin) } : {}),
      };
      warnAbout(plan);
      const run = await runBenchmarks(backend, plan, { workspace: c.workspace, store, signal: c.signal, progress: c.progress, preparePlacement, profile: o.profile });
      if (o.json) c.out(JSON.stringify(run, null, 2));
      else {
        const headlines = BENCHMARKS.filter((b) => run.metadata.plan.benchmarks.includes(b.id)).map((b) => b.headline);
        c.out(summaryTable(run, [...new Set(['throughput', 'retransmits', 'rttAvg', 'loss', ...headlines])]));
        for (const line of [...driftLines(run), ...warningLines(run).map((w) => `warning: ${w}`)]) c.out(line);
        if (o.profile) c.out(`\nModel host (--profile):\n${formatAttribution(attribution(run.results))}`);
        if (o.profile && hotSpots(run).length) c.out(`\n${formatHotSpots(hotSpots(run))}`);
        c.out(`\nRun ${run.id} (${run.status}${run.reason ? `: ${run.reason}` : ''}): ${store.fileOf(run.id)}`);
      }
      if (run.status !== 'complete') process.exitCode = 130;
    });

  program.command('report').description('show a run (default: the newest) as a table, HTML, CSV, or Markdown/LaTeX tables of several runs')
    .argument('[runs...]', 'run ids or files; Markdown and LaTeX tables compare all of them')
    .option('--html <file>', 'write one self-contained HTML file with charts')
    .option('--csv <file>', 'write one row per measurement')
    .option('--markdown <file>', 'write a Markdown table of the runs: medians and overheads with 95 % intervals')
    .option('--latex <file>', 'write the same table for LaTeX (booktabs)')
    .option('--metrics <list>', 'metrics of the Markdown/LaTeX tables (default: each benchmark\'s headline)')
    .option('--compare <run>', 'compare with another run (table, or both runs in the HTML report)')
    .option('--vs-previous-build', 'compare each model the run measured with the latest earlier run of its previous build (changes with 95 % intervals; with --html, both runs)')
    .option('--list', 'list all runs')
    .action((ids: string[], o: { html?: string; csv?: string; markdown?: string; latex?: string; metrics?: string; compare?: string; vsPreviousBuild?: boolean; list?: boolean }) => {
      const c = ctx();
      const store = new ResultsStore(c.workspace);
      if (o.list) {
        const { runs, skipped } = store.list();
        for (const r of runs) c.out(`${r.id}  ${r.run.status.padEnd(10)}  ${r.run.metadata.plan.benchmarks.join(',')}  ${r.run.metadata.plan.placements.join(',')}  ${r.run.results.length} measurements`);
        for (const s of skipped) process.stderr.write(`skipped ${s}\n`);
        return;
      }
      const runs = ids.length ? ids.map((id) => store.read(id)) : [store.latest()].filter((r) => r !== undefined);
      const run = runs[0];
      if (!run) throw new Error(`No runs in ${store.dir}: run \`hypershield bench\` first.`);
      if (o.vsPreviousBuild && o.compare) throw new Error('--vs-previous-build finds the run to compare with itself: leave out --compare.');
      const compare = o.compare ? store.read(o.compare) : o.vsPreviousBuild ? previousBuildReport(store, run, o.metrics, c.out) : undefined;
      if (o.html) writeOut(o.html, reportHtml(run, compare), c.out);
      if (o.csv) writeOut(o.csv, toCsv(run), c.out);
      if (o.markdown || o.latex) {
        const all = compare ? [...runs, compare] : runs;
        const metrics = o.metrics?.split(',').map((m) => m.trim()).filter(Boolean);
        const rows = paperRows(all, (b) => metrics ?? [BENCHMARKS.find((x) => x.id === b)?.headline ?? '']);
        if (rows.length === 0) throw new Error(`No model-mode figures of ${metrics ? `the metrics ${metrics.join(', ')}` : 'the headline metrics'} in ${all.map((r) => r.id).join(', ')}: a table needs runs with model mode.`);
        if (o.markdown) writeOut(o.markdown, markdownTable(all, rows), c.out);
        if (o.latex) writeOut(o.latex, latexTable(all, rows), c.out);
      }
      if (o.vsPreviousBuild) return;
      if (compare && !o.html) c.out(compareTable(run, compare));
      else if (!o.html && !o.csv && !o.markdown && !o.latex) {
        for (const r of runs) {
          c.out(`Run ${r.id} (${r.status}${r.reason ? `: ${r.reason}` : ''}), ${r.metadata.startedAt}, testbed ${r.metadata.testbed.name} (${r.metadata.testbed.backend})${r.metadata.emulated ? ', EMULATED hosts' : ''}`);
          c.out(summaryTable(r));
          for (const line of [...abLines(r), ...driftLines(r), ...warningLines(r).map((w) => `warning: ${w}`)]) c.out(line);
        }
      }
    });

  program.command('bundle').description('write one file that re-runs a run elsewhere: testbed, model sources, tool versions, command line, plan')
    .argument('<run>', 'run id or file')
    .requiredOption('-o, --output <file>', 'the bundle file to write (JSON)')
    .action((id: string, o: { output: string }) => {
      const c = ctx();
      const bundle = createBundle(new ResultsStore(c.workspace).read(id));
      writeOut(o.output, JSON.stringify(bundle, null, 2) + '\n', c.out);
      c.out(`Re-run it elsewhere with: hypershield bench --replay ${path.basename(o.output)}`);
    });

  program.command('doctor').description('list missing prerequisites with their Debian packages')
    .option('--install', 'install what is missing with apt-get (root)')
    .option('--features <list>', 'only these: testbed,bench,build,kernel,ebpf,perf,docker,qemu')
    .action(async (o: { install?: boolean; features?: string }) => {
      const c = ctx();
      const features = o.features ? list<Feature>(o.features, ['testbed', 'bench', 'build', 'kernel', 'ebpf', 'perf', 'docker', 'qemu'], '--features') : undefined;
      let { findings, access } = await runDoctor(features);
      if (o.install) {
        const installed = await installMissing(findings, (s) => process.stderr.write(s));
        if (installed.length) c.out(`Installed: ${installed.join(' ')}`);
        ({ findings, access } = await runDoctor(features));
      }
      for (const f of findings) c.out(`${f.ok ? 'ok     ' : 'MISSING'}  ${f.feature.padEnd(8)} ${f.what}${f.ok ? '' : `  (apt-get install ${f.pkg})`}`);
      c.out(`As ${os.userInfo().username}:`);
      for (const a of access) c.out(`${a.ok ? 'ok     ' : 'no     '}  ${a.what}: ${a.how}`);
      const missing = findings.filter((f) => !f.ok);
      if (missing.length || !testbedAccessible(access)) process.exitCode = 1;
    });
};

/**
 * Prints how each model of `run` changed since its previous build and returns the previous build's run of the first
 * model that has one (for the HTML report). Throws when no model has a previous build to compare with.
 */
function previousBuildReport(store: ResultsStore, run: RunFile, metrics: string | undefined, out: (s: string) => void): RunFile {
  if (run.metadata.models.length === 0) throw new Error(`Run ${run.id} measured no model build (placement none only): --vs-previous-build needs a run with a model.`);
  const wanted = metrics?.split(',').map((m) => m.trim()).filter(Boolean);
  let first: RunFile | undefined;
  for (const placement of [...new Set(run.metadata.models.map((m) => m.placement))]) {
    const previous = store.previousBuild(run, placement);
    if (!previous) {
      out(`${placement} model: no earlier complete run of another build of it with a comparable plan (same benchmarks, placements and backend).`);
      continue;
    }
    first ??= previous;
    const comparison = compareBuilds(previous, run, placement);
    for (const line of buildComparisonLines(comparison, wanted ?? headlineChanges(comparison).map((ch) => ch.metric))) out(line);
  }
  if (!first) throw new Error(`No model of run ${run.id} has a previous build to compare with: measure the previous build with the same plan first.`);
  return first;
}

/** Says up front, on stderr, when a plan's repetitions cannot give the intervals it is run for. */
function warnAbout(plan: RunPlan, opts?: { ab?: boolean }): void {
  for (const w of planWarnings(plan, opts)) process.stderr.write(`warning: ${w}\n`);
}

function writeOut(file: string, text: string, out: (s: string) => void): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeFileAtomic(path.resolve(file), text);
  out(`Wrote ${path.resolve(file)}`);
}
