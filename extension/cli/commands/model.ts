import * as fs from 'node:fs';
import * as path from 'node:path';
import { Option, type Command } from 'commander';
import { buildModel, type BuildResult } from '../../core/model/build';
import { deployModel, undeployModel } from '../../core/model/deploy/deploy';
import { DeployError, type ModelConfig } from '../../core/model/deploy/model-host';
import { DEFAULT_WATCHDOG_SECONDS } from '../../core/model/deploy/watchdog';
import { formatDiagnostic, type Diagnostic } from '../../core/model/diagnostics/diagnostic';
import { scaffoldModel } from '../../core/model/scaffold';
import { MODEL_PLACEMENTS, PLACEMENT_FILES, parsePlacement, type ModelPlacement } from '../../core/model/templates';
import type { Register } from '../main';

const placementChoices = [...MODEL_PLACEMENTS, 'all'];

/** The placements whose sources are in dir ("all" builds only those, so a user-only project builds). */
function placementsOf(dir: string, choice: string): ModelPlacement[] {
  if (choice !== 'all') return [parsePlacement(choice)];
  const present = MODEL_PLACEMENTS.filter((p) => fs.existsSync(path.join(dir, PLACEMENT_FILES[p][0])));
  if (!present.length) throw new Error(`${dir} holds no model sources (${MODEL_PLACEMENTS.map((p) => PLACEMENT_FILES[p][0]).join(', ')}); create a project with \`hypershield new DIR\`.`);
  return present;
}

function printDiagnostics(diagnostics: Diagnostic[]): void {
  for (const d of diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
}

function summary(r: BuildResult): string {
  const count = (s: Diagnostic['severity']) => r.diagnostics.filter((d) => d.severity === s).length;
  const kernel = r.kernel ? ` for kernel ${r.kernel.release} (${r.kernel.origin} headers ${r.kernel.dir})` : '';
  return r.ok
    ? `Built the ${r.placement} model${kernel}: ${path.relative(process.cwd(), r.artifacts[0]) || r.artifacts[0]} (build ${r.buildId!.slice(0, 12)}, source ${r.sourceHash.slice(0, 12)}, ${count('warning')} warnings, ${r.durationMs} ms)`
    : `The ${r.placement} model did not build${kernel}: ${count('error')} errors, ${count('warning')} warnings.`;
}

export const registerModelCommands: Register = (program: Command, ctx) => {
  program.command('new').description('create a model project from the templates')
    .argument('<dir>', 'a new or empty folder')
    .addOption(new Option('--placement <placement>', 'which templates to copy').choices(placementChoices).default('all'))
    .action((dir: string, opts: { placement: string }) => {
      const c = ctx();
      const result = scaffoldModel(dir, opts.placement === 'all' ? 'all' : parsePlacement(opts.placement));
      c.out(`Created ${result.dir}: ${result.files.join(', ')}`);
    });

  program.command('build').description('build a model project; compiler, kbuild and modpost messages become diagnostics')
    .argument('[dir]', 'model project folder', '.')
    .addOption(new Option('--placement <placement>', 'what to build (all: every placement with sources in DIR)').choices(placementChoices).default('all'))
    .option('--kernel-release <rel>', 'kernel builds: build for this release instead of the model host\'s own')
    .option('--json', 'print the results (with diagnostics) as JSON instead of the build output')
    .action(async (dir: string, opts: { placement: string; kernelRelease?: string; json?: boolean }) => {
      const c = ctx();
      const backend = c.testbed();
      const modelDir = path.resolve(dir);
      const results: BuildResult[] = [];
      for (const placement of placementsOf(modelDir, opts.placement)) {
        const r = await buildModel(backend, modelDir, placement, {
          kernelRelease: opts.kernelRelease,
          signal: c.signal,
          progress: c.progress,
          onOutput: opts.json ? undefined : (chunk) => process.stderr.write(chunk),
        });
        results.push(r);
        if (!opts.json) {
          printDiagnostics(r.diagnostics);
          c.out(summary(r));
        }
      }
      if (opts.json) c.out(JSON.stringify(results.map(({ log: _log, ...r }) => r), null, 2));
      if (results.some((r) => !r.ok)) process.exitCode = 1;
    });

  program.command('deploy').description('build and deploy a model on the testbed\'s model host (replacing the deployed one)')
    .argument('[dir]', 'model project folder', '.')
    .addOption(new Option('--placement <placement>', 'where the model runs').choices([...MODEL_PLACEMENTS]).makeOptionMandatory())
    .option('--pattern <hex>', 'payload bytes the example policy looks for, as hex (default: "HSDROP"); "" matches nothing')
    .addOption(new Option('--action <action>', 'what a match does to the packet and its flow').choices(['drop', 'accept']))
    .option('--flow-timeout <seconds>', 'forget flows idle this long', (v) => Number(v))
    .option('--window <bytes>', 'payload bytes inspected per packet (default 256, at most 1024)', (v) => Number(v))
    .option('--queues <n>', 'user space: NFQUEUE queues, one thread each', (v) => Number(v))
    .option('--watchdog <seconds>', 'undeploy unless the workbench confirms it reaches the model host within this time', (v) => Number(v), DEFAULT_WATCHDOG_SECONDS)
    .option('--kernel-release <rel>', 'kernel: build for this release instead of the model host\'s own')
    .option('--allow-host-kernel', 'kernel: load the module even though the model host shares this machine\'s kernel (namespaces, containers)')
    .action(async (dir: string, opts: { placement: ModelPlacement; pattern?: string; action?: ModelConfig['action']; flowTimeout?: number; window?: number; queues?: number; watchdog: number; kernelRelease?: string; allowHostKernel?: boolean }) => {
      const c = ctx();
      const backend = c.testbed();
      const config: Partial<ModelConfig> = {
        ...(opts.pattern !== undefined ? { pattern: opts.pattern } : {}),
        ...(opts.action ? { action: opts.action } : {}),
        ...(opts.flowTimeout !== undefined ? { flowTimeoutS: opts.flowTimeout } : {}),
        ...(opts.window !== undefined ? { windowBytes: opts.window } : {}),
        ...(opts.queues !== undefined ? { queues: opts.queues } : {}),
      };
      try {
        const r = await deployModel(backend, dir, opts.placement, {
          config,
          watchdogSeconds: opts.watchdog,
          allowHostKernel: opts.allowHostKernel,
          build: { kernelRelease: opts.kernelRelease, onOutput: (chunk) => process.stderr.write(chunk) },
          signal: c.signal,
          progress: c.progress,
        });
        printDiagnostics(r.diagnostics);
        c.out(`Deployed the ${r.deployed.placement} model from ${r.deployed.dir} on testbed ${backend.testbed.name} (build ${r.deployed.buildId.slice(0, 12)}, source ${r.deployed.sourceHash.slice(0, 12)}): ${r.verified}.`);
      } catch (err) {
        if (err instanceof DeployError) printDiagnostics(err.diagnostics);
        throw err;
      }
    });

  program.command('undeploy').description('remove the deployed model from the model host and check nothing is left').action(async () => {
    const c = ctx();
    const backend = c.testbed();
    const { removed } = await undeployModel(backend, { signal: c.signal, progress: c.progress });
    c.out(removed ? `Undeployed the model of testbed ${backend.testbed.name}; plain forwarding is restored.` : `No model was deployed on testbed ${backend.testbed.name}.`);
  });
};
