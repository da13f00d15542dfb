// A separate process that tries to take a testbed's lock once and reports what happened, for the race tests.
// argv: testbed, milliseconds to hold it. Prints one JSON line: {"got":true,"from":t0,"to":t1} or {"got":false}.
import { exclusive, TestbedBusyError } from '../../extension/core/testbed/lock';

const [testbed, holdMs] = process.argv.slice(2);
exclusive(testbed, `contender ${process.pid}`, async () => {
  const from = Date.now();
  await new Promise((r) => setTimeout(r, Number(holdMs)));
  return { from, to: Date.now() };
}).then(
  (held) => console.log(JSON.stringify({ got: true, ...held })),
  (err: Error) => {
    if (!(err instanceof TestbedBusyError)) throw err;
    console.log(JSON.stringify({ got: false }));
  },
);
