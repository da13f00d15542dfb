/**
 * Quotes one argument for a POSIX shell (sh, dash, bash, zsh): the SSH protocol carries a command as one string,
 * which the remote user's login shell splits again. Inside single quotes nothing is special except the quote
 * itself, which is closed, escaped and reopened. Not for csh/fish login shells (their quoting differs).
 */
export function shellQuote(arg: string): string {
  if (arg.includes('\0')) throw new Error(`A command argument contains a NUL byte, which no remote shell can pass on: ${JSON.stringify(arg)}`);
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** One command line of quoted arguments. */
export function shellJoin(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}
