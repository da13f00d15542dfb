// Prints the edit-to-result loop on the namespace testbed: edit the user-space template, build and deploy it, run
// one 3 s iperf3 through it the way `hypershield bench` does (run file written), and where the time goes. Own time
// is the loop minus the seconds iperf3 measured. Figures with their spread, not pass/fail: this machine's speed drifts.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openTestbed } from '../extension/core/backends/open';
import type { Backend } from '../extension/core/backends/backend';
import type { ExecOptions, Host, Role } from '../extension/core/hosts/host';
import { deployModel } from '../extension/core/model/deploy/deploy';
import { scaffoldModel } from '../extension/core/model/scaffold';
import { runBenchmarks } from '../extension/core/bench/runner';
import { ResultsStore } from '../extension/core/results/store';
import type { RunFile } from '../extension/core/results/run-file';
import { describe } from '../extension/core/results/stats';
import { execLocal } from '../extension/core/util/local-process';

const ROUNDS = 5;
const DURATION_S = 3;
const GOAL_OWN_MS = 1500;

type Step = 'edit' | 'build' | 'deploy' | 'testbed checks' | 'metadata' | 'server start/stop' | 'iperf3 beyond its seconds' | 'writing results' | 'other';
const STEPS: readonly Step[] = ['edit', 'build', 'deploy', 'testbed checks', 'metadata', 'server start/stop', 'iperf3 beyond its seconds', 'writing results', 'other'];

interface Span { start: number; end: number; step: Step; what: string }

/** Which step of the bench run a command on a host belongs to, by what it runs. */
function stepOf(argv: readonly string[]): Step {
  const a = argv.join(' ');
  if (argv[0] === 'iperf3' && argv.includes('-c')) return 'iperf3 beyond its seconds';
  // The daemon scripts span several lines: s lets .* cross them.
  if (argv[0] === 'iperf3' || /wait-for-port|^sh -c .* stop |^mkdir -p /s.test(a)) return 'server start/stop';
  if (/^ip -j -s link show|^ping |command -v/.test(a)) return 'testbed checks';
  if (/ describe /.test(a)) return 'metadata';
  return 'other';
}

/** A backend whose hosts, mode switches and results store record a span for everything they do. */
function recording(backend: Backend, spans: Span[]): Backend {
  const timed = new Map<Role, Host>();
  const hostOf = (role: Role): Host => {
    let h = timed.get(role);
    if (h) return h;
    const inner = backend.host(role);
    h = Object.create(inner) as Host;
    h.exec = async (argv: readonly string[], opts?: ExecOptions) => {
      const start = performance.now();
      try { return await inner.exec(argv, opts); } finally { spans.push({ start, end: performance.now(), step: stepOf(argv), what: argv.join(' ').slice(0, 60) }); }
    };
    timed.set(role, h);
    return h;
  };
  const setMode: Backend['setMode'] = async (mode, opts) => {
    const start = performance.now();
    try { await backend.setMode(mode, opts); } finally { spans.push({ start, end: performance.now(), step: 'testbed checks', what: `mode ${mode}` }); }
  };
  return new Proxy(backend, { get: (t, p) => (p === 'host' ? hostOf : p === 'setMode' ? setMode : Reflect.get(t, p)) });
}

class RecordingStore extends ResultsStore {
  constructor(workspace: string, private readonly spans: Span[]) { super(workspace); }
  override create(run: Omit<RunFile, 'id'>): RunFile {
    const start = performance.now();
    try { return super.create(run); } finally { this.spans.push({ start, end: performance.now(), step: 'writing results', what: 'create' }); }
  }
  override save(run: RunFile): void {
    const start = performance.now();
    try { super.save(run); } finally { this.spans.push({ start, end: performance.now(), step: 'writing results', what: 'save' }); }
  }
}

/** A real change of the program: a string that lands in the binary, different every round. */
function edit(modelDir: string, round: number): void {
  const file = path.join(modelDir, 'user_space_model.c');
  const text = fs.readFileSync(file, 'utf8').replace(/\n\/\* bench-loop edit \*\/.*\n$/s, '\n');
  fs.writeFileSync(file, `${text}/* bench-loop edit */ __attribute__((used)) static const char hs_bench_loop_edit[] = "edit ${round} ${Date.now()}";\n`);
}

interface Round { totalMs: number; ownMs: number; measuredMs: number; steps: Record<Step, number>; commands: number; trace: string[] }

/** Attributes every millisecond of [from, to) to one step: the first span covering it, else the phase's default. */
function attribute(spans: Span[], from: number, to: number, phases: Array<{ at: number; step: Step }>, into: Record<Step, number>): void {
  const cuts = [...new Set([from, to, ...spans.flatMap((s) => [s.start, s.end]), ...phases.map((p) => p.at)])].filter((t) => t >= from && t <= to).sort((a, b) => a - b);
  for (let i = 0; i + 1 < cuts.length; i++) {
    const mid = (cuts[i] + cuts[i + 1]) / 2;
    const span = spans.find((s) => s.start <= mid && mid < s.end && s.step !== 'other');
    const phase = [...phases].reverse().find((p) => p.at <= mid)?.step ?? 'other';
    into[span?.step ?? phase] += cuts[i + 1] - cuts[i];
  }
}

async function loop(backend: Backend, workspace: string, modelDir: string, round: number): Promise<Round> {
  const spans: Span[] = [];
  const phases: Array<{ at: number; step: Step }> = [];
  const b = recording(backend, spans);
  const store = new RecordingStore(workspace, spans);
  const steps = Object.fromEntries(STEPS.map((s) => [s, 0])) as Record<Step, number>;

  const t0 = performance.now();
  edit(modelDir, round);
  const t1 = performance.now();
  steps.edit = t1 - t0;
  const deployed = await deployModel(b, modelDir, 'user');
  const t2 = performance.now();
  steps.build = deployed.build.durationMs;
  steps.deploy = t2 - t1 - deployed.build.durationMs;
  const progress = {
    report: (m: string) => {
      const at = performance.now();
      if (/^Checking the benchmark tools/.test(m)) phases.push({ at, step: 'testbed checks' });
      else if (/^Recording host metadata/.test(m)) phases.push({ at, step: 'metadata' });
      else phases.push({ at, step: 'other' });
    },
  };
  const run = await runBenchmarks(b, { benchmarks: ['iperf3'], modes: ['model'], repetitions: 1, warmup: 0, durationS: DURATION_S }, { workspace, store, progress });
  const t3 = performance.now();
  // Metadata is recorded between its progress line and the creation of the run file.
  const created = spans.find((s) => s.what === 'create');
  if (created) phases.push({ at: created.start, step: 'other' });
  phases.sort((x, y) => x.at - y.at);
  attribute(spans.filter((s) => s.start >= t2), t2, t3, phases, steps);

  const m = run.results[0];
  if (run.status !== 'complete' || !m || m.error) throw new Error(`The bench run did not complete: ${run.reason ?? m?.error ?? 'no result'}`);
  if (run.metadata.models[0]?.buildId !== deployed.deployed.buildId) throw new Error('The run does not record the model just built.');
  const measuredMs = (JSON.parse(m.raw) as { end: { sum_sent: { seconds: number } } }).end.sum_sent.seconds * 1000;
  steps['iperf3 beyond its seconds'] -= measuredMs;
  const totalMs = t3 - t0;
  const trace = [...spans].sort((x, y) => x.start - y.start)
    .map((s) => `${(s.start - t0).toFixed(0).padStart(6)} ms +${(s.end - s.start).toFixed(0).padStart(5)} ms  ${s.what}`);
  // Commands on hosts: each is a process here, a round trip on a VM or SSH host; a figure load does not move.
  const commands = spans.filter((s) => s.what !== 'create' && s.what !== 'save' && !s.what.startsWith('mode ')).length;
  return { totalMs, ownMs: totalMs - measuredMs, measuredMs, steps, commands, trace };
}

async function main(): Promise<void> {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-benchloop-'));
  fs.writeFileSync(path.join(workspace, 'hypershield.testbed.json'), JSON.stringify({ name: 'elloop', backend: 'netns' }));
  const modelDir = scaffoldModel(path.join(workspace, 'model'), 'user').dir;
  // A workspace under git, as a researcher's is: the run records its commit.
  for (const argv of [['git', 'init', '-q'], ['git', 'add', '-A'], ['git', '-c', 'user.name=bench', '-c', 'user.email=bench@localhost', 'commit', '-qm', 'model']]) {
    await execLocal(argv, { cwd: workspace });
  }
  const backend = openTestbed(workspace);
  try {
    await backend.up();
    await backend.setMode('model');
    // One unrecorded loop: the first build compiles every file and the page cache is cold.
    await loop(backend, workspace, modelDir, 0);
    const rounds: Round[] = [];
    for (let r = 1; r <= ROUNDS; r++) rounds.push(await loop(backend, workspace, modelDir, r));

    const fmt = (xs: number[]) => { const s = describe(xs); return `${(s.median / 1000).toFixed(2)} s (min ${(s.min / 1000).toFixed(2)}, max ${(s.max / 1000).toFixed(2)})`; };
    const ms = (xs: number[]) => { const s = describe(xs); return `${s.median.toFixed(0).padStart(5)} ms (min ${s.min.toFixed(0)}, max ${s.max.toFixed(0)})`; };
    console.log(`edit-to-result loop, user-space model, one ${DURATION_S} s iperf3 through it (n ${rounds.length}, load ${os.loadavg()[0].toFixed(2)}):`);
    console.log(`  total:        ${fmt(rounds.map((r) => r.totalMs))}`);
    console.log(`  iperf3 measured: ${fmt(rounds.map((r) => r.measuredMs))}`);
    console.log(`  own time:     ${fmt(rounds.map((r) => r.ownMs))}   goal < ${(GOAL_OWN_MS / 1000).toFixed(1)} s`);
    console.log(`  commands on the hosts: ${describe(rounds.map((r) => r.commands)).median}`);
    console.log('  own time by step (medians; they need not add up to the median own time):');
    for (const s of STEPS) console.log(`    ${s.padEnd(26)} ${ms(rounds.map((r) => r.steps[s]))}`);
    // --trace: every command the last loop ran on a host, with when it started and how long it took.
    if (process.argv.includes('--trace')) for (const line of rounds[rounds.length - 1].trace) console.log(`  ${line}`);
  } finally {
    await backend.down().catch(() => undefined);
    fs.rmSync(workspace, { recursive: true, force: true });
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
