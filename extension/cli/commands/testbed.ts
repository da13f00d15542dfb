import type { Command } from 'commander';
import { MODES, type Mode } from '../../core/testbed/testbed';
import { testbedStatus } from '../../core/testbed/status';
import type { Register } from '../main';

export const registerTestbedCommands: Register = (program: Command, ctx) => {
  program.command('up').description('create the testbed hosts and links (safe to run twice)').action(async () => {
    const c = ctx();
    const backend = c.testbed();
    const started = Date.now();
    await backend.up({ signal: c.signal, progress: c.progress });
    c.out(`Testbed ${backend.testbed.name} (${backend.testbed.backend}) is up in ${backend.state.read()?.mode} mode (${Date.now() - started} ms).`);
  });

  program.command('down').description('remove everything the testbed created, also after a crash').action(async () => {
    const c = ctx();
    const { backend, fileError } = c.describedOrRecorded();
    if (fileError) c.progress.report(`${fileError.message}\nBringing testbed ${backend.testbed.name} down from its recorded state.`);
    await backend.down({ signal: c.signal, progress: c.progress });
    c.out(`Testbed ${backend.testbed.name} is down.`);
  });

  program.command('status').description('show hosts, addresses, kernels, mode and deployed model')
    .option('--json', 'print machine-readable JSON')
    .action(async (opts: { json?: boolean }) => {
      const c = ctx();
      const { backend, fileError } = c.describedOrRecorded();
      if (fileError) c.progress.report(`${fileError.message}\nShowing testbed ${backend.testbed.name} from its recorded state.`);
      const s = await testbedStatus(backend);
      if (opts.json) return c.out(JSON.stringify(s, null, 2));
      c.out(`Testbed ${s.name} (${s.backend}, from ${s.source}): ${s.state}${s.mode ? `, ${s.mode} mode` : ''}`);
      if (s.owner) return c.out(`  The hosts named ${s.name} on this machine belong to the workspace ${s.owner.workspace} (up since ${s.owner.since}).`);
      for (const h of s.hosts) {
        // What a host says about itself (a VM: booting, ready or panicked, emulated or not, its console's tail; a
        // container: why it stopped): after the kernel of a running host, in its place for one that is not.
        const [first, ...rest] = h.detail?.split('\n') ?? [];
        const running = h.state === 'running';
        c.out(`  ${h.role.padEnd(7)} ${h.state.padEnd(11)} ${(h.addresses.join(' ') || '-').padEnd(32)} ${(running ? h.kernel : first) ?? ''}`);
        for (const l of running ? [first, ...rest] : rest) if (l !== undefined) c.out(`          ${l}`);
      }
      c.out(`  model:  ${s.deployed ? `${s.deployed.placement} model from ${s.deployed.dir} (source ${s.deployed.sourceHash.slice(0, 12)})` : 'none deployed'}`);
      const i = s.interruptedDeploy;
      if (i) {
        c.out(`  INTERRUPTED deploy of the ${i.placement} model from ${i.dir} (process ${i.pid}, started ${i.startedAt}): what it made may still be on the ` +
          `model host until its ${i.watchdogSeconds} s watchdog rolls it back; \`hypershield undeploy\` removes it now.`);
      }
    });

  program.command('mode').description('route client traffic directly to the server or through the model host')
    .argument('<mode>', MODES.join('|'))
    .action(async (mode: string) => {
      const c = ctx();
      if (!MODES.includes(mode as Mode)) throw new Error(`Unknown mode "${mode}": use ${MODES.join(' or ')}.`);
      const backend = c.testbed();
      if (backend.state.read()?.phase !== 'up') throw new Error(`Testbed ${backend.testbed.name} is not up: run \`hypershield up\` first.`);
      await backend.setMode(mode as Mode, { signal: c.signal, progress: c.progress });
      c.out(`Mode is now ${mode}.`);
    });
};
