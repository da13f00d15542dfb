import type { SecretPrompt } from '../core/hosts/ssh/connection';

/**
 * Asks for a secret (an SSH key's passphrase) on the terminal without echoing it, once per subject for the whole
 * command (three hosts using one key ask once). Without a terminal (CI, pipes) nobody can answer: it returns
 * undefined and the caller's error says what to do instead (ssh-agent).
 */
export function terminalSecretPrompt(input: NodeJS.ReadStream = process.stdin, output: NodeJS.WriteStream = process.stderr): SecretPrompt {
  const asked = new Map<string, Promise<string | undefined>>();
  let queue: Promise<unknown> = Promise.resolve();
  return (request) => {
    if (!input.isTTY) return Promise.resolve(undefined);
    let answer = asked.get(request.subject);
    if (!answer) {
      // One prompt at a time: parallel connections must not interleave on the terminal.
      answer = queue.then(() => readHidden(input, output, request.prompt));
      queue = answer.catch(() => undefined);
      asked.set(request.subject, answer);
    }
    return answer;
  };
}

function readHidden(input: NodeJS.ReadStream, output: NodeJS.WriteStream, prompt: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    output.write(prompt);
    input.setRawMode(true);
    input.resume();
    input.setEncoding('utf8');
    let text = '';
    const done = (err?: Error) => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      output.write('\n');
      if (err) reject(err); else resolve(text);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new Error('Cancelled at the passphrase prompt'));
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else if (ch >= ' ') text += ch;
      }
    };
    input.on('data', onData);
  });
}
