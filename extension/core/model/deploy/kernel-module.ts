// The kernel placement: kernel_space.ko loaded with insmod; its counters are in /proc/net/hypershield.
// On an emulated guest every command costs a channel and a process start (about 0.4 s), so the host is asked once
// before the build (preflight) and once to load (LOAD_SCRIPT: record the undo step, write the module, insmod, report).
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BatchResult } from '../../hosts/batch';
import { runLocal } from '../../util/local-process';
import { parseModuleLoad } from '../diagnostics/module-load';
import { locateSymbol } from '../diagnostics/build-output';
import { DeployError, type HostFacts, type ModelCounters, type ModelHost, type PlacementDeployer, type Probe } from './model-host';
import { runProbe } from './probe';

const MODULE_NAME = 'kernel_space';

/** Removes the module when it is loaded. */
const UNLOAD_SCRIPT = `if grep -q "^$1 " /proc/modules; then rmmod "$1"; fi`;

/**
 * One labelled line per fact ($1 the module's name, $2 this testbed's undo folder). dash, Debian's /bin/sh, answers
 * `command -v` for its first name only, hence the loop.
 */
const PREFLIGHT_SCRIPT = `uname -r; [ -e /proc/modules ] && echo modules; echo "disabled=$(cat /proc/sys/kernel/modules_disabled 2>/dev/null)"
for p in insmod rmmod; do command -v "$p" >/dev/null && echo "has=$p"; done
grep -q "^$1 " /proc/modules 2>/dev/null && echo loaded
[ -d "$2" ] && echo ours
true`;

/**
 * Loads the module whose bytes come on stdin. Arguments: $1 marker, $2 where the module goes, $3 its size in bytes,
 * $4 the undo step's file, $5 the module's name, $6 the release it was built for, $7 N, then the N words of the undo
 * step, then insmod's parameters. Prints the release, then after marker lines: insmod's output, its exit code,
 * the kernel log lines it caused, the module's /proc/modules line and its counters. Fails (exit 3) before changing
 * anything when the release differs, and (exit 1) when the module could not be written whole.
 */
const LOAD_SCRIPT = `marker=$1 ko=$2 size=$3 step=$4 mod=$5 built=$6 n=$7
shift 7
read -r release < /proc/sys/kernel/osrelease
echo "$release"
[ -z "$built" ] || [ "$built" = "$release" ] || exit 3
tmp="\${step%/*}/.\${step##*/}"
: > "$tmp" || exit 1
while [ "$n" -gt 0 ]; do printf '%s\\0' "$1" >> "$tmp" || exit 1; shift; n=$((n - 1)); done
mv "$tmp" "$step" || exit 1
cat > "$ko" || exit 1
got=$(wc -c < "$ko")
[ "$got" -eq "$size" ] || { echo "wrote $got of $size bytes to $ko" >&2; exit 1; }
lines=$(dmesg | wc -l)
printf '\\n%s insmod\\n' "$marker"
insmod "$ko" "$@" 2>&1
printf '\\n%s exit %s\\n' "$marker" "$?"
dmesg | tail -n "+$((lines + 1))"
printf '\\n%s modules\\n' "$marker"
grep "^$mod " /proc/modules
printf '\\n%s counters\\n' "$marker"
cat /proc/net/hypershield 2>/dev/null
true`;

/** /proc/net/hypershield reads "packets 12\nbytes 3400\n...": one counter per line. */
function parseCounters(text: string): ModelCounters {
  const kv = new Map(text.split('\n').map((l) => l.trim().split(/\s+/)).filter((p) => p.length === 2).map(([k, v]) => [k, Number(v)]));
  const n = (k: string) => kv.get(k) ?? 0;
  return { packets: n('packets'), bytes: n('bytes'), accepted: n('accepted'), dropped: n('dropped'), patternMatches: n('pattern_matches'),
    flowsCreated: n('flows_created'), flowsExpired: n('flows_expired'), flowsTableFull: n('flows_table_full') };
}

/** What LOAD_SCRIPT printed, split at its marker lines (see there). */
function parseLoadOutput(text: string, marker: string): { release: string; insmod: string; code: number; kernelLog: string; modules: string; counters: string } | undefined {
  const m = new RegExp(`^([^\\n]*)\\n\\n${marker} insmod\\n([\\s\\S]*?)\\n${marker} exit (\\d+)\\n([\\s\\S]*?)\\n${marker} modules\\n([\\s\\S]*?)\\n${marker} counters\\n([\\s\\S]*)$`).exec(text);
  return m ? { release: m[1], insmod: m[2], code: Number(m[3]), kernelLog: m[4], modules: m[5], counters: m[6] } : undefined;
}

/**
 * The module without its debug information (a tenth of its size, or less): what the guest loads is the same code,
 * and it crosses an emulated guest's SSH channel many times faster.
 */
async function strippedCopy(ko: string, signal?: AbortSignal): Promise<{ bytes: Buffer; cleanup: () => void }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-ko-'));
  const cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
  try {
    const out = path.join(dir, path.basename(ko));
    await runLocal(['objcopy', '--strip-debug', ko, out], { signal, timeoutMs: 30_000 });
    return { bytes: fs.readFileSync(out), cleanup };
  } catch (err) {
    cleanup();
    throw err;
  }
}

const counterProbe = (): Probe<ModelCounters> => ({
  argv: ['cat', '/proc/net/hypershield'],
  read(r) {
    if (r.code !== 0) throw new Error(`/proc/net/hypershield cannot be read (${r.stderr.trim() || (r.code === null ? 'no answer in time' : `cat exited with ${r.code}`)}): is ${MODULE_NAME} loaded?`);
    return parseCounters(r.stdout);
  },
});

/** What PREFLIGHT_SCRIPT printed: the host's kernel release, or why no module can be loaded there. */
function readPreflight(m: ModelHost, r: BatchResult): HostFacts {
  if (r.code !== 0) throw new DeployError(`Asking ${m.host.label} about its kernel failed: ${r.stderr.trim() || (r.code === null ? 'no answer in time' : `exit ${r.code}`)}`);
  const [release, ...rest] = r.stdout.split('\n');
  const why = !rest.includes('modules') ? `its kernel ${release} was built without loadable module support (/proc/modules does not exist), so no kernel module can be loaded there`
    : rest.includes('disabled=1') ? `module loading is disabled on its kernel ${release} until the next reboot (kernel.modules_disabled = 1)`
      : !rest.includes('has=insmod') || !rest.includes('has=rmmod') ? 'insmod/rmmod are not installed there (install kmod)' : undefined;
  if (why) {
    throw new DeployError(`The model host ${m.host.label} cannot load kernel modules: ${why}. ` +
      'Deploy the kernel placement on a model host whose kernel loads modules (e.g. a qemu testbed), or use the user or ebpf placement.');
  }
  // A module this testbed deployed (its undo plan is on the host) is replaced by the deploy; any other is not ours.
  if (rest.includes('loaded') && !rest.includes('ours')) {
    throw new DeployError(`A module named ${MODULE_NAME} is already loaded on ${m.host.label}, and not by this testbed: remove it with rmmod ${MODULE_NAME}.`);
  }
  return { kernelRelease: release.trim() };
}

export const kernelModuleDeployer: PlacementDeployer = {
  preflight(m: ModelHost) {
    return { argv: ['sh', '-c', PREFLIGHT_SCRIPT, 'hs-kmod-preflight', MODULE_NAME, m.dir.undo], read: (r: BatchResult) => readPreflight(m, r) };
  },

  async load(ctx) {
    const { host, plan, config, signal } = ctx;
    const sourceFile = path.join(ctx.modelDir, `${MODULE_NAME}.c`);
    const ko = path.posix.join(ctx.dir.root, `${MODULE_NAME}.ko`);
    const step = plan.next('unload-module', ['sh', '-c', UNLOAD_SCRIPT, 'hs-rmmod', MODULE_NAME]);
    const params = [`action=${config.action}`, `flow_timeout=${config.flowTimeoutS}`, `window=${config.windowBytes}`, `max_flows=${config.maxFlows}`, ...(config.pattern ? [`pattern=${config.pattern}`] : [])];
    ctx.progress?.report(`Loading ${MODULE_NAME} on ${host.label}: insmod ${params.join(' ')}`);
    const stripped = await strippedCopy(ctx.artifact, signal);
    const marker = `hs-load-${randomBytes(6).toString('hex')}`;
    let r;
    try {
      r = await host.exec(['sh', '-c', LOAD_SCRIPT, 'hs-kmod-load', marker, ko, String(stripped.bytes.length), step.file, MODULE_NAME, ctx.builtFor ?? '',
        String(step.argv.length), ...step.argv, ...params], { stdin: stripped.bytes, signal, timeoutMs: 90_000 });
    } finally {
      stripped.cleanup();
    }
    const release = r.stdout.split('\n')[0].trim();
    if (r.code === 3) {
      throw new DeployError(`The module was built for kernel ${ctx.builtFor}, but the model host ${host.label} runs ${release}: build it for ${release} (without --kernel-release).`,
        [{ file: sourceFile, line: 1, column: 1, severity: 'error', source: 'load', message: `Built for kernel ${ctx.builtFor}; the model host runs ${release}.`, related: [] }]);
    }
    const out = r.code === 0 ? parseLoadOutput(r.stdout, marker) : undefined;
    if (!out) {
      const why = r.cancelled ? 'was cancelled' : r.timedOut ? 'timed out' : `exited with code ${r.code}`;
      throw new DeployError(`Loading ${MODULE_NAME} on ${host.label} ${why} before insmod reported: ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join('\n')}`);
    }
    const failed = out.code !== 0 || !out.modules.trim();
    const diagnostics = parseModuleLoad(out.insmod, out.kernelLog, MODULE_NAME, sourceFile, failed).map((d) => locateSymbol(d, ctx.modelDir));
    if (failed) {
      throw new DeployError(`${MODULE_NAME} did not load on ${host.label}:\n${diagnostics.filter((d) => d.severity === 'error').map((d) => `  ${d.message}`).join('\n')}`, diagnostics);
    }
    return { detail: { module: MODULE_NAME, release, params: params.join(' ') }, diagnostics, counters: parseCounters(out.counters) };
  },

  counters(m) {
    return runProbe(m, counterProbe(), 10_000);
  },

  countersProbe: counterProbe,

  leftoverProbes() {
    return [{
      argv: ['cat', '/proc/modules'],
      read: (r) => (r.code === 0 && r.stdout.split('\n').some((l) => l.startsWith(`${MODULE_NAME} `)) ? [`kernel module ${MODULE_NAME}`] : []),
    }];
  },
};
