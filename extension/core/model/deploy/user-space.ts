// The user-space placement: user_space_model bound to NFQUEUE queues, fed by an iptables FORWARD rule.
// On an emulated guest every command costs a channel and process starts (0.1-0.5 s), so one command (LOAD_SCRIPT)
// writes the program, records the undo steps, starts it, waits until it is ready and queues traffic to it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DeployError, type ModelCounters, type ModelHost, type PlacementDeployer, type Probe } from './model-host';
import { runProbe } from './probe';
import { sharedLibraries } from './shared-libraries';
import { RECORD_FUNCTION, stepArgs } from './undo-plan';

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
 * Loads the model in one command; the program's bytes come on stdin. Arguments: $1 where the program goes, $2 its
 * size, $3 the folder for libraries uploaded beside it, $4 pid file, $5 log, $6 stats file, $7 START_SCRIPT, $8 how
 * many times to look (every 10 ms) for readiness, $9 N, then the N library files the program loads (as found on
 * this machine); then the undo steps (a count, then each as RECORD_FUNCTION reads it); then M and the program's M
 * arguments; then the iptables rule. A library counts as there when the host has that file or $3 has its name.
 * Exits 4 printing "missing FILE..." (and making $3) before anything but the program's file changed; 2 printing the
 * log when the program exited before it printed "ready" and wrote its stats, 3 when it did neither in time; 5 when
 * inserting the rule failed; 0 printing the stats file. Libraries in $3 are found through LD_LIBRARY_PATH.
 */
const LOAD_SCRIPT = `${RECORD_FUNCTION}
prog=$1 size=$2 libs=$3 pidfile=$4 log=$5 stats=$6 start=$7 ticks=$8 n=$9
shift 9
cat > "$prog" || exit 1
got=$(wc -c < "$prog")
[ "$got" -eq "$size" ] || { echo "wrote $got of $size bytes to $prog" >&2; exit 1; }
chmod 0755 "$prog" || exit 1
missing=
while [ "$n" -gt 0 ]; do
  [ -e "$1" ] || [ -e "$libs/\${1##*/}" ] || missing="$missing $1"
  shift; n=$((n - 1))
done
if [ -n "$missing" ]; then mkdir -p "$libs" || exit 1; echo "missing$missing"; exit 4; fi
record_steps "$@" || exit 1
shift "$rec_words"
n=$1; shift
words=; i=1
while [ "$i" -le "$n" ]; do words="$words \\"\\\${$i}\\""; i=$((i + 1)); done
env=
[ ! -d "$libs" ] || env='env LD_LIBRARY_PATH="$libs"'
eval "setsid -f sh -c \\"\\$start\\" hs-model \\"\\$pidfile\\" \\"\\$log\\" $env \\"\\$prog\\" $words" || exit 1
shift "$n"
i=0
until grep -qx ready "$log" 2>/dev/null && [ -s "$stats" ]; do
  if pid=$(cat "$pidfile" 2>/dev/null); then
    s=$(cat "/proc/$pid/stat" 2>/dev/null) && s=\${s##*) } && [ "\${s%% *}" != Z ] || { cat "$log" 2>/dev/null; exit 2; }
  fi
  i=$((i + 1))
  [ "$i" -lt "$ticks" ] || { cat "$log" 2>/dev/null; exit 3; }
  sleep 0.01
done
iptables -w -I "$@" || exit 5
cat "$stats"`;

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

/** The stats file's counters (the template writes them as JSON, see user_space_model.c). */
function parseStats(text: string): ModelCounters {
  const s = JSON.parse(text) as Record<string, unknown>;
  const n = (k: string) => (typeof s[k] === 'number' ? (s[k] as number) : 0);
  return { packets: n('packets'), bytes: n('bytes'), accepted: n('accepted'), dropped: n('dropped'), patternMatches: n('pattern_matches'),
    flowsCreated: n('flows_created'), flowsExpired: n('flows_expired'), flowsTableFull: n('flows_table_full') };
}

function statsProbe(m: ModelHost): Probe<ModelCounters> {
  const p = paths(m);
  return {
    argv: ['sh', '-c', FRESH_STATS_SCRIPT, 'hs-stats', p.pid, p.program, p.stats],
    read(r) {
      if (r.code !== 0) throw new Error(`${m.host.label}: cannot read the stats of ${PROGRAM} (${p.stats}): ${r.stderr.trim() || `cat exited with ${r.code}`}`);
      return parseStats(r.stdout);
    },
  };
}

export const userSpaceDeployer: PlacementDeployer = {
  preflight(m) {
    return {
      argv: ['sh', '-c', 'command -v iptables && command -v setsid'],
      read(r) {
        if (r.code !== 0) throw new DeployError(`The model host ${m.host.label} lacks iptables or setsid, which the user-space placement needs: install iptables and util-linux there.`);
        return {};
      },
    };
  },

  async load(ctx) {
    const { host, plan, config, signal } = ctx;
    const p = paths(ctx);
    const libs = path.posix.join(ctx.dir.root, 'lib');
    const libraries = ctx.builtHere ? await sharedLibraries(ctx.artifact, signal) : [];
    const program = fs.readFileSync(ctx.artifact);
    const rule = queueRule(ctx.testbed, config.queues);
    const steps = [plan.next('stop-model', ['sh', '-c', STOP_SCRIPT, 'hs-stop', p.pid, p.program]), plan.next('remove-queue-rule', ['sh', '-c', UNQUEUE_SCRIPT, 'hs-unqueue', ...rule])];
    const args = ['--queue-num', String(QUEUE_BASE), '--queues', String(config.queues), '--stats', p.stats,
      '--action', config.action, '--flow-timeout', String(config.flowTimeoutS), '--window', String(config.windowBytes), '--max-flows', String(config.maxFlows), ...(config.pattern ? ['--pattern', config.pattern] : [])];
    const load = () => host.exec(['sh', '-c', LOAD_SCRIPT, 'hs-user-load', p.program, String(program.length), libs, p.pid, p.log, p.stats, START_SCRIPT, String(READY_TIMEOUT_MS / 10),
      String(libraries.length), ...libraries, ...stepArgs(steps), String(args.length), ...args, ...rule], { stdin: program, signal, timeoutMs: READY_TIMEOUT_MS + 60_000 });
    ctx.progress?.report(`Starting ${PROGRAM} on ${host.label} and queueing forwarded traffic to it: iptables -I ${rule.join(' ')}`);
    let r = await load();
    let missing: string[] = [];
    if (r.code === 4) {
      // Libraries the host lacks go beside the program: this machine's copies, which the program was linked against.
      missing = r.stdout.trim().split(/\s+/).slice(1);
      ctx.progress?.report(`${host.label} lacks ${missing.map((f) => path.posix.basename(f)).join(', ')}: uploading this machine's copies into ${libs}`);
      for (const file of missing) await host.upload(file, path.posix.join(libs, path.posix.basename(file)), { signal });
      r = await load();
    }
    signal?.throwIfAborted();
    const output = r.stdout.trim() || r.stderr.trim() || '(no output)';
    switch (r.code) {
      case 0: break;
      case 2: throw new DeployError(`${PROGRAM} exited on ${host.label} before it was ready:\n${output}`);
      case 3: throw new DeployError(`${PROGRAM} did not print "ready" and write its stats within ${READY_TIMEOUT_MS / 1000} s on ${host.label}:\n${output}`);
      case 4: throw new DeployError(`${host.label} still lacks libraries ${PROGRAM} loads after they were uploaded: ${output}`);
      case 5: throw new DeployError(`Queueing forwarded traffic to ${PROGRAM} on ${host.label} failed (iptables -I ${rule.join(' ')}):\n${r.stderr.trim()}`);
      default: throw new DeployError(`Starting ${PROGRAM} on ${host.label} ${r.timedOut ? 'timed out' : `failed (exit ${r.code})`}: ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join('\n')}`);
    }
    return {
      detail: { program: p.program, pidFile: p.pid, statsFile: p.stats, queueRule: rule.join(' '), ...(missing.length ? { uploadedLibraries: missing.join(',') } : {}) },
      diagnostics: [],
      counters: parseStats(r.stdout),
    };
  },

  counters(m) {
    return runProbe(m, statsProbe(m));
  },

  countersProbe: statsProbe,

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
