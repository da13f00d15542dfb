// Entry of the extension-host tests: VS Code loads this module in its extension host and calls run().
// Results go to the console and, as JSON, to the file named by HS_VSCODE_TEST_RESULTS for the runner to count.
import * as fs from 'node:fs';
import Mocha from 'mocha';

interface Outcome {
  title: string;
  state: 'passed' | 'failed';
  ms: number;
  error?: string;
}

export async function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: 'spec' });
  // Test files are part of this bundle: give them mocha's globals, then load them, in this order.
  mocha.suite.emit('pre-require', globalThis, 'hypershield-vscode-tests', mocha);
  await import('./activation.test');
  await import('./testbed.test');
  await import('./model.test');
  await import('./bench.test');
  await import('./teardown.test');

  const outcomes: Outcome[] = [];
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      const out = process.env.HS_VSCODE_TEST_RESULTS;
      if (out) fs.writeFileSync(out, JSON.stringify(outcomes, null, 2));
      if (failures > 0) reject(new Error(`${failures} extension-host test(s) failed`));
      else resolve();
    });
    runner.on('pass', (t) => outcomes.push({ title: t.fullTitle(), state: 'passed', ms: t.duration ?? 0 }));
    runner.on('fail', (t, err: Error) => outcomes.push({ title: t.fullTitle(), state: 'failed', ms: t.duration ?? 0, error: err.stack ?? err.message }));
  });
}
