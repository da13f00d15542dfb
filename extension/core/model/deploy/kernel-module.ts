// The kernel placement: kernel_space.ko loaded with insmod; its counters are in /proc/net/hypershield.
import * as path from 'node:path';
import { run } from '../../hosts/host';
import { parseModuleLoad } from '../diagnostics/module-load';
import { locateSymbol } from '../diagnostics/build-output';
import { DeployError, type ModelCounters, type ModelHost, type PlacementDeployer } from './model-host';

const MODULE_NAME = 'kernel_space';

/** Removes the module when it is loaded. */
const UNLOAD_SCRIPT = `if grep -q "^$1 " /proc/modules; then rmmod "$1"; fi`;

/** Why the model host cannot load modules, or undefined when it can. */
async function cannotLoadModules(m: ModelHost): Promise<string | undefined> {
  // One labelled line per fact (dash, Debian's /bin/sh, answers `command -v` for its first name only).
  const probe = await run(m.host, ['sh', '-c', 'uname -r; [ -e /proc/modules ] && echo modules; echo "disabled=$(cat /proc/sys/kernel/modules_disabled 2>/dev/null)"; ' +
    'for p in insmod rmmod; do command -v "$p" >/dev/null && echo "has=$p"; done'], { signal: m.signal, timeoutMs: 15_000 });
  const [release, ...rest] = probe.split('\n');
  if (!rest.includes('modules')) {
    return `its kernel ${release} was built without loadable module support (/proc/modules does not exist), so no kernel module can be loaded there`;
  }
  if (rest.includes('disabled=1')) return `module loading is disabled on its kernel ${release} until the next reboot (kernel.modules_disabled = 1)`;
  if (!rest.includes('has=insmod') || !rest.includes('has=rmmod')) return 'insmod/rmmod are not installed there (install kmod)';
  return undefined;
}

export const kernelModuleDeployer: PlacementDeployer = {
  async preflight(m) {
    const why = await cannotLoadModules(m);
    if (why) {
      throw new DeployError(`The model host ${m.host.label} cannot load kernel modules: ${why}. ` +
        'Deploy the kernel placement on a model host whose kernel loads modules (e.g. a qemu testbed), or use the user or ebpf placement.');
    }
    const loaded = await run(m.host, ['cat', '/proc/modules'], { signal: m.signal, timeoutMs: 15_000 });
    // A module this testbed deployed (its undo plan is on the host) is replaced by the deploy; any other is not ours.
    const ours = async () => (await m.host.exec(['test', '-d', m.dir.undo], { signal: m.signal, timeoutMs: 15_000 })).code === 0;
    if (loaded.split('\n').some((l) => l.startsWith(`${MODULE_NAME} `)) && !(await ours())) {
      throw new DeployError(`A module named ${MODULE_NAME} is already loaded on ${m.host.label}, and not by this testbed: remove it with rmmod ${MODULE_NAME}.`);
    }
  },

  async load(ctx) {
    const { host, plan, config, signal } = ctx;
    const sourceFile = path.join(ctx.modelDir, `${MODULE_NAME}.c`);
    const release = (await run(host, ['uname', '-r'], { signal, timeoutMs: 15_000 })).trim();
    if (ctx.builtFor && ctx.builtFor !== release) {
      throw new DeployError(`The module was built for kernel ${ctx.builtFor}, but the model host ${host.label} runs ${release}: build it for ${release} (without --kernel-release).`,
        [{ file: sourceFile, line: 1, column: 1, severity: 'error', source: 'load', message: `Built for kernel ${ctx.builtFor}; the model host runs ${release}.`, related: [] }]);
    }
    const ko = path.posix.join(ctx.dir.root, `${MODULE_NAME}.ko`);
    await host.upload(ctx.artifact, ko, { signal });
    const logBefore = (await host.exec(['dmesg'], { signal, timeoutMs: 15_000 })).stdout.split('\n').length;
    await plan.add('unload-module', ['sh', '-c', UNLOAD_SCRIPT, 'hs-rmmod', MODULE_NAME], signal);
    const params = [`action=${config.action}`, `flow_timeout=${config.flowTimeoutS}`, `window=${config.windowBytes}`, `max_flows=${config.maxFlows}`, ...(config.pattern ? [`pattern=${config.pattern}`] : [])];
    ctx.progress?.report(`Loading ${MODULE_NAME} on ${host.label}: insmod ${params.join(' ')}`);
    const insmod = await host.exec(['insmod', ko, ...params], { signal, timeoutMs: 60_000 });
    const kernelLog = (await host.exec(['dmesg'], { signal, timeoutMs: 15_000 })).stdout.split('\n').slice(Math.max(0, logBefore - 1)).join('\n');
    const loaded = (await run(host, ['cat', '/proc/modules'], { signal, timeoutMs: 15_000 })).split('\n').find((l) => l.startsWith(`${MODULE_NAME} `));
    const failed = insmod.code !== 0 || !loaded;
    const diagnostics = parseModuleLoad(insmod.stderr + insmod.stdout, kernelLog, MODULE_NAME, sourceFile, failed).map((d) => locateSymbol(d, ctx.modelDir));
    if (failed) {
      throw new DeployError(`${MODULE_NAME} did not load on ${host.label}:\n${diagnostics.filter((d) => d.severity === 'error').map((d) => `  ${d.message}`).join('\n')}`, diagnostics);
    }
    return { detail: { module: MODULE_NAME, release, params: params.join(' ') }, diagnostics };
  },

  async counters(m) {
    const text = await run(m.host, ['cat', '/proc/net/hypershield'], { signal: m.signal, timeoutMs: 10_000 });
    const kv = new Map(text.split('\n').map((l) => l.trim().split(/\s+/)).filter((p) => p.length === 2).map(([k, v]) => [k, Number(v)]));
    const n = (k: string) => kv.get(k) ?? 0;
    return { packets: n('packets'), bytes: n('bytes'), accepted: n('accepted'), dropped: n('dropped'), patternMatches: n('pattern_matches'),
      flowsCreated: n('flows_created'), flowsExpired: n('flows_expired'), flowsTableFull: n('flows_table_full') } satisfies ModelCounters;
  },

  async leftovers(m) {
    const r = await m.host.exec(['cat', '/proc/modules'], { signal: m.signal, timeoutMs: 15_000 });
    return r.code === 0 && r.stdout.split('\n').some((l) => l.startsWith(`${MODULE_NAME} `)) ? [`kernel module ${MODULE_NAME}`] : [];
  },
};
