// The root helper (installed by `sudo hypershield setup` as /usr/local/libexec/hypershield/helper, run through
// sudo by members of the hypershield group): one checked operation per call, its result as JSON on stdout.
// Exit codes: 0 done, 2 refused (nothing was changed), 1 the operation failed.
import { callerFromSudo, runOperation } from '../core/privileged/operations';
import { HelperRefusal, parseRequest } from '../core/privileged/protocol';

async function main(): Promise<number> {
  try {
    const caller = callerFromSudo(process.env);
    const result = await runOperation(caller, parseRequest(process.argv.slice(2)));
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  } catch (err) {
    const refused = err instanceof HelperRefusal;
    process.stderr.write(`hypershield helper: ${refused ? 'refused: ' : ''}${err instanceof Error ? err.message : String(err)}\n`);
    return refused ? 2 : 1;
  }
}

void main().then((code) => process.exit(code));
