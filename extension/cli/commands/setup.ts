import * as path from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_GROUP } from '../../core/privileged/protocol';
import { setup, undoSetup } from '../../core/privileged/setup';
import type { Register } from '../main';

export const registerSetupCommands: Register = (program: Command) => {
  program.command('setup')
    .description('as root, once: let a user load eBPF models on their own testbeds through a narrow root helper (no VS Code or CLI as root)')
    .option('--user <name>', 'the user to add to the group (default: the user who ran sudo)')
    .option('--group <name>', 'the group whose members may use the helper', DEFAULT_GROUP)
    .option('--undo', 'remove what setup added: the helper, the sudoers rule, the members it added and the group if it made it')
    .action(async (opts: { user?: string; group: string; undo?: boolean }) => {
      const report = (line: string) => process.stderr.write(`${line}\n`);
      if (opts.undo) {
        await undoSetup(report);
        process.stdout.write('HyperShield setup is undone.\n');
        return;
      }
      const user = opts.user ?? process.env.SUDO_USER;
      if (!user || user === 'root') throw new Error('Name the user who will run the workbench: sudo hypershield setup --user NAME');
      // The CLI bundle's folder holds the helper bundle (dist/helper.js).
      await setup({ user, group: opts.group, helperBundle: path.join(__dirname, 'helper.js'), node: process.execPath, report });
      process.stdout.write(`HyperShield setup is done: ${user} (group ${opts.group}) can deploy the eBPF placement on their own testbeds. ` +
        'Undo with `sudo hypershield setup --undo`.\n');
    });
};
