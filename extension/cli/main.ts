import { Command, CommanderError } from 'commander';
import { createContext, type CliContext } from './context';
import { registerTestbedCommands } from './commands/testbed';
import { registerModelCommands } from './commands/model';
import { registerBenchCommands } from './commands/bench';
import { registerSetupCommands } from './commands/setup';
import { VERSION } from '../core/version';

export type Register = (program: Command, ctx: () => CliContext) => void;

const program = new Command('hypershield')
  .description('Build, deploy and measure network security models on a client -> model -> server testbed.')
  .version(VERSION)
  .option('-w, --workspace <dir>', 'workspace folder (holds hypershield.testbed.json and .hypershield/)', process.cwd())
  .showHelpAfterError();

let context: CliContext | undefined;
const ctx = (): CliContext => (context ??= createContext(program.opts<{ workspace: string }>().workspace));

for (const register of [registerTestbedCommands, registerBenchCommands, registerModelCommands, registerSetupCommands]) register(program, ctx);

program.exitOverride();
// Connections to hosts are closed before exiting, also after a failure (a timeout bounds each close).
const finish = () => context?.dispose().catch(() => undefined);
program.parseAsync(process.argv).then(
  // Exit once stdout has drained: a pipe takes 64 KiB at a time, and a run file printed with --json is larger.
  async () => { await finish(); process.stdout.write('', () => process.exit(process.exitCode ?? 0)); },
  async (err: unknown) => {
    await finish();
    if (err instanceof CommanderError) process.exit(err.exitCode);
    process.stderr.write(`hypershield: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
