// The user-space placement: user_space_model bound to NFQUEUE queues, fed by an iptables FORWARD rule.
import * as path from 'node:path';
import { run } from '../../hosts/host';
import { DeployError, type ModelCounters, type ModelHost, type PlacementDeployer } from './model-host';
import { runProbe } from './probe';

const PROGRAM = 'user_space_model';
const QUEUE_BASE = 0;
const READY_TIMEOUT_MS = 10_000;

/** Starts "$@" detached, with its pid in $1 and its output in $2. */
const START_SCRIPT = `exec </dev/null >"$2" 2>&1
echo $$ > "$1"
shift 2
exec "$@"`;

/** Stops the process in pid file $1 if it still runs program $2: SIGTERM, up to 5 s, then SIGKILL (checked every 10 ms). */
const STOP_SCRIPT = `pidfile=$1 program=$2
pid=$(cat "$pidfile" 2>/dev/null) || exit 0
alive() { [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$program" ]; }
if alive; then
  kill -TERM "$pid"
  i=0; while alive && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
  if alive; then
    kill -KILL "$pid"
    i=0; while alive && [ $i -lt 200 ]; do sleep 0.01; i=$((i + 1)); done
  fi
fi
if alive; then echo "process $pid did not stop" >&2; exit 1; fi
rm -f "$pidfile"`;

/** Deletes every copy of the rule "$@" (none is fine). */
const UNQUEUE_SCRIPT = `while iptables -w -C "$@" 2>/dev/null; do iptables -w -D "$@" || exit 1; done`;

/**
 * Waits (every 10 ms, $4 times at most) until log $1 has the line "ready" and stats file $2 is not empty; the host
 * waits itself, so a VM or SSH host pays one round trip. Exits 2 when the process of pid file $3 has exited (a
 * missing pid file means it is still being started), 1 on timeout; then prints the log.
 */
const WAIT_READY_SCRIPT = `i=0
while [ "$i" -lt "$4" ]; do
  grep -qx ready "$1" 2>/dev/null && [ -s "$2" ] && exit 0
  if pid=$(cat "$3" 2>/dev/null); then
    s=$(cat "/proc/$pid/stat" 2>/dev/null) && s=\${s##*) } && [ "\${s%% *}" != Z ] || { cat "$1" 2>/dev/null; exit 2; }
  fi
  sleep 0.01; i=$((i + 1))
done
cat "$1" 2>/dev/null; exit 1`;

/**
 * Prints stats file $3 of the process in pid file $1 (program $2) after asking it for fresh counters with SIGHUP
 * and waiting (every 5 ms, 0.5 s at most) for the file to change. Only a program whose stats file says it writes
 * them on SIGHUP, as the template's does, is asked: to any other the signal could be fatal; it is read as it is.
 */
const FRESH_STATS_SCRIPT = `pid=$(cat "$1" 2>/dev/null)
old=$(cat "$3" 2>/dev/null)
case "$old" in *'"refresh_signal": "SIGHUP"'*)
  if [ -n "$pid" ] && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$2" ] && kill -HUP "$pid" 2>/dev/null; then
    i=0; while [ "$i" -lt 100 ] && [ "$(cat "$3" 2>/dev/null)" = "$old" ]; do sleep 0.005; i=$((i + 1)); done
  fi ;;
esac
cat "$3"`;

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

/** Waits for the "ready" line and the first stats file. */
async function waitReady(m: ModelHost, p: ReturnType<typeof paths>): Promise<void> {
  const r = await m.host.exec(['sh', '-c', WAIT_READY_SCRIPT, 'hs-wait-ready', p.log, p.stats, p.pid, String(READY_TIMEOUT_MS / 10)],
    { signal: m.signal, timeoutMs: READY_TIMEOUT_MS + 10_000 });
  if (r.code === 0) return;
  m.signal?.throwIfAborted();
  const output = r.stdout.trim() || '(no output)';
  if (r.code === 2) throw new DeployError(`${PROGRAM} exited on ${m.host.label} before it was ready:\n${output}`);
  throw new DeployError(`${PROGRAM} did not print "ready" and write its stats within ${READY_TIMEOUT_MS / 1000} s on ${m.host.label}:\n${output}`);
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
    const p = paths(m);
    return {
      argv: ['sh', '-c', FRESH_STATS_SCRIPT, 'hs-stats', p.pid, p.program, p.stats],
      read(r) {
        if (r.code !== 0) throw new Error(`${m.host.label}: cannot read the stats of ${PROGRAM} (${p.stats}): ${r.stderr.trim() || `cat exited with ${r.code}`}`);
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
