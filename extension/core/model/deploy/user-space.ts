// The user-space placement: user_space_model bound to NFQUEUE queues, fed by an iptables FORWARD rule.
import * as path from 'node:path';
import { run, type Host } from '../../hosts/host';
import { DeployError, type ModelCounters, type ModelHost, type PlacementDeployer } from './model-host';
import { runProbe } from './probe';
import { pollUntil } from '../../util/poll';

const PROGRAM = 'user_space_model';
const QUEUE_BASE = 0;
const READY_TIMEOUT_MS = 10_000;

/** Starts "$@" detached, with its pid in $1 and its output in $2. */
const START_SCRIPT = `exec </dev/null >"$2" 2>&1
echo $$ > "$1"
shift 2
exec "$@"`;

/** Stops the process in pid file $1 if it still runs program $2: SIGTERM, up to 5 s, then SIGKILL. */
const STOP_SCRIPT = `pidfile=$1 program=$2
pid=$(cat "$pidfile" 2>/dev/null) || exit 0
alive() { [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$program" ]; }
if alive; then
  kill -TERM "$pid"
  i=0; while alive && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  if alive; then
    kill -KILL "$pid"
    i=0; while alive && [ $i -lt 20 ]; do sleep 0.1; i=$((i + 1)); done
  fi
fi
if alive; then echo "process $pid did not stop" >&2; exit 1; fi
rm -f "$pidfile"`;

/** Deletes every copy of the rule "$@" (none is fine). */
const UNQUEUE_SCRIPT = `while iptables -w -C "$@" 2>/dev/null; do iptables -w -D "$@" || exit 1; done`;

/** Prints the pid and path of every process whose program lies under $1. */
// One ls for all processes, parsed with shell built-ins: a fork per process takes seconds on an emulated guest.
const FIND_SCRIPT = `ls -l /proc/[0-9]*/exe 2>/dev/null | while read -r line; do
  t=\${line#* -> }; exe=\${line% -> *}; exe=\${exe##* }
  case "$t" in "$1"/*) echo "\${exe%/exe} $t";; esac
done; true`;

function paths(m: ModelHost) {
  return {
    program: path.posix.join(m.dir.root, PROGRAM),
    pid: path.posix.join(m.dir.root, `${PROGRAM}.pid`),
    log: path.posix.join(m.dir.root, `${PROGRAM}.log`),
    stats: path.posix.join(m.dir.root, 'stats.json'),
  };
}

function queueRule(testbed: string, queues: number): string[] {
  const target = queues > 1 ? ['--queue-balance', `${QUEUE_BASE}:${QUEUE_BASE + queues - 1}`] : ['--queue-num', String(QUEUE_BASE)];
  return ['FORWARD', '-m', 'comment', '--comment', `hypershield:${testbed}`, '-j', 'NFQUEUE', ...target, '--queue-bypass'];
}

async function isRunning(host: Host, pidFile: string, program: string): Promise<boolean> {
  const r = await host.exec(['sh', '-c', 'pid=$(cat "$1") && [ "$(readlink "/proc/$pid/exe")" = "$2" ]', 'hs-alive', pidFile, program], { timeoutMs: 10_000 });
  return r.code === 0;
}

/** Waits for the "ready" line and the first stats file. */
async function waitReady(m: ModelHost, p: ReturnType<typeof paths>): Promise<void> {
  let output = '';
  await pollUntil(async () => {
    const log = await m.host.exec(['cat', p.log], { signal: m.signal, timeoutMs: 10_000 });
    output = log.stdout.trim() || '(no output)';
    const stats = await m.host.exec(['test', '-s', p.stats], { signal: m.signal, timeoutMs: 10_000 });
    if (/^ready$/m.test(log.stdout) && stats.code === 0) return true;
    if (!(await isRunning(m.host, p.pid, p.program))) throw new DeployError(`${PROGRAM} exited on ${m.host.label} before it was ready:\n${output}`);
    return undefined;
  }, {
    timeoutMs: READY_TIMEOUT_MS,
    intervalMs: 50,
    signal: m.signal,
    onTimeout: () => new DeployError(`${PROGRAM} did not print "ready" and write its stats within ${READY_TIMEOUT_MS / 1000} s on ${m.host.label}:\n${output}`),
  });
}

export const userSpaceDeployer: PlacementDeployer = {
  async preflight(m) {
    const r = await m.host.exec(['sh', '-c', 'command -v iptables && command -v setsid'], { signal: m.signal, timeoutMs: 15_000 });
    if (r.code !== 0) throw new Error(`The model host ${m.host.label} lacks iptables or setsid, which the user-space placement needs: install iptables and util-linux there.`);
    return {};
  },

  async load(ctx) {
    const { host, plan, config } = ctx;
    const p = paths(ctx);
    ctx.progress?.report(`Starting ${PROGRAM} on ${host.label}`);
    await host.upload(ctx.artifact, p.program, { signal: ctx.signal });
    await run(host, ['chmod', '0755', p.program], { signal: ctx.signal, timeoutMs: 15_000 });
    await plan.add('stop-model', ['sh', '-c', STOP_SCRIPT, 'hs-stop', p.pid, p.program], ctx.signal);
    const args = ['--queue-num', String(QUEUE_BASE), '--queues', String(config.queues), '--stats', p.stats,
      '--action', config.action, '--flow-timeout', String(config.flowTimeoutS), '--window', String(config.windowBytes), '--max-flows', String(config.maxFlows), ...(config.pattern ? ['--pattern', config.pattern] : [])];
    await run(host, ['setsid', '-f', 'sh', '-c', START_SCRIPT, 'hs-model', p.pid, p.log, p.program, ...args], { signal: ctx.signal, timeoutMs: 15_000 });
    await waitReady(ctx, p);

    const rule = queueRule(ctx.testbed, config.queues);
    ctx.progress?.report(`Queueing forwarded traffic to it: iptables -I ${rule.join(' ')}`);
    await plan.add('remove-queue-rule', ['sh', '-c', UNQUEUE_SCRIPT, 'hs-unqueue', ...rule], ctx.signal);
    await run(host, ['iptables', '-w', '-I', ...rule], { signal: ctx.signal, timeoutMs: 15_000 });
    return { detail: { program: p.program, pidFile: p.pid, statsFile: p.stats, queueRule: rule.join(' ') }, diagnostics: [] };
  },

  counters(m) {
    return runProbe(m, userSpaceDeployer.countersProbe!(m));
  },

  countersProbe(m) {
    return {
      argv: ['cat', paths(m).stats],
      read(r) {
        if (r.code !== 0) throw new Error(`${m.host.label}: cannot read the stats of ${PROGRAM} (${paths(m).stats}): ${r.stderr.trim() || `cat exited with ${r.code}`}`);
        const s = JSON.parse(r.stdout) as Record<string, unknown>;
        const n = (k: string) => (typeof s[k] === 'number' ? (s[k] as number) : 0);
        return { packets: n('packets'), bytes: n('bytes'), accepted: n('accepted'), dropped: n('dropped'), patternMatches: n('pattern_matches'),
          flowsCreated: n('flows_created'), flowsExpired: n('flows_expired'), flowsTableFull: n('flows_table_full') } satisfies ModelCounters;
      },
    };
  },

  leftoverProbes(m) {
    return [
      { argv: ['iptables', '-w', '-S', 'FORWARD'], read: (r) => r.stdout.split('\n').filter((l) => l.includes(`hypershield:${m.testbed}`)).map((l) => `iptables rule: ${l}`) },
      {
        argv: ['sh', '-c', FIND_SCRIPT, 'hs-find', m.dir.root],
        read: (r) => (r.code !== 0 ? [`processes under ${m.dir.root}: could not be listed (${r.stderr.trim() || `exit ${r.code}`})`] : r.stdout.split('\n').filter(Boolean).map((l) => `process: ${l}`)),
      },
    ];
  },
};
