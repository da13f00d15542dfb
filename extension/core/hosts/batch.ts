// Several commands in one exec: on a remote host every exec costs a channel and a process start there (about 0.4 s
// on an emulated guest), so commands that need no answer in between go together.
import { randomBytes } from 'node:crypto';
import type { ExecOptions, Host } from './host';

export interface BatchResult {
  /** The command's exit code, or null when the batch ended (timeout, cancellation, a lost host) before it ran or finished. */
  code: number | null;
  stdout: string;
  stderr: string;
}

// Runs as `sh -c SCRIPT hs-batch MARKER N1 ARG... N2 ARG...`: each count says how many of the following arguments make
// one command. A command is run through `eval` of a string made here of positional references only ("${3}" "${4}"),
// so no argument is ever read as shell text. After each command: MARKER o CODE, its stderr, MARKER e. Only shell
// built-ins run between the commands: on an emulated guest every process started costs tens of milliseconds.
const BATCH_SCRIPT = `marker=$1; shift
err=$(mktemp) || exit 125
trap 'rm -f "$err"' EXIT
while [ $# -gt 0 ]; do
  n=$1; shift
  words=; i=1
  while [ "$i" -le "$n" ]; do words="$words \\"\\\${$i}\\""; i=$((i + 1)); done
  eval "$words" 2>"$err" </dev/null
  code=$?
  printf '\\n%s o %s\\n' "$marker" "$code"
  [ ! -s "$err" ] || while IFS= read -r line || [ -n "$line" ]; do printf '%s\\n' "$line"; done < "$err"
  printf '\\n%s e\\n' "$marker"
  shift "$n"
done`;

/**
 * Runs each argv in turn on host in one exec (each sees no stdin) and returns each one's exit code and output. A
 * failing command does not stop the later ones. Rejects only when the exec itself could not be made.
 */
export async function execBatch(host: Host, commands: ReadonlyArray<readonly string[]>, opts: Pick<ExecOptions, 'signal' | 'timeoutMs'>): Promise<BatchResult[]> {
  if (commands.some((c) => c.length === 0)) throw new Error('execBatch: a command with an empty argv');
  const marker = `hs-batch-${randomBytes(6).toString('hex')}`;
  const r = await host.exec(['sh', '-c', BATCH_SCRIPT, 'hs-batch', marker, ...commands.flatMap((c) => [String(c.length), ...c])], opts);
  return parseBatch(r.stdout, marker, commands.length);
}

/**
 * The output reads, for `true` then `echo hi; exit 3` printing "oops" on stderr:
 *   "\nMARKER o 0\n\nMARKER e\nhi\n\nMARKER o 3\noops\n\nMARKER e\n"
 * A command's stdout is what comes before its "o" line (less the newline the script adds), its stderr what lies
 * between the "o" and "e" lines.
 */
export function parseBatch(text: string, marker: string, count: number): BatchResult[] {
  const results: BatchResult[] = [];
  let rest = text;
  const o = new RegExp(`\\n${marker} o (\\d+)\\n`);
  const e = `\n${marker} e\n`;
  while (results.length < count) {
    const om = o.exec(rest);
    if (!om) {
      results.push({ code: null, stdout: rest, stderr: '' });
      rest = '';
      continue;
    }
    const afterO = rest.slice(om.index + om[0].length);
    const ei = afterO.indexOf(e);
    results.push({ code: Number(om[1]), stdout: rest.slice(0, om.index), stderr: ei < 0 ? afterO : afterO.slice(0, ei) });
    rest = ei < 0 ? '' : afterO.slice(ei + e.length);
  }
  return results;
}
