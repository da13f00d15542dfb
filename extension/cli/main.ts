import { Command, CommanderError } from 'commander';
import { createContext, type CliContext } from './context';
import { registerTestbedCommands } from './commands/testbed';
import { registerModelCommands } from './commands/model';
import { registerBenchCommands } from './commands/bench';
import { VERSION } from '../core/version';

export type Register = (program: Command, ctx: () => CliContext) => void;

const program = new Command('hypershield')
  .description('Build, deploy and measure network security models on a client -> model -> server testbed.')
  .version(VERSION)
  .option('-w, --workspace <dir>', 'workspace folder (holds hypershield.testbed.json and .hypershield/)', process.cwd())
  .showHelpAfterError();

let context: CliContext | undefined;
const ctx = (): CliContext => (context ??= createContext(program.opts<{ workspace: string }>().workspace));

for (const register of [registerTestbedCommands, registerBenchCommands, registerModelCommands]) register(program, ctx);

program.exitOverride();
program.parseAsync(process.argv).then(
  // Exit once stdout has drained: a pipe takes 64 KiB at a time, and a run file printed with --json is larger.
  () => process.stdout.write('', () => process.exit(process.exitCode ?? 0)),
  (err: unknown) => {
    if (err instanceof CommanderError) process.exit(err.exitCode);
    process.stderr.write(`hypershield: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
