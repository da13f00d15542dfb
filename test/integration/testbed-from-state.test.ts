// A broken testbed description while the testbed is up: `status` and `down` work from the state file, on real
// namespaces, and the message names the user's file and its line without advising to delete it.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI, namespaces, tempWorkspace } from '../helpers/workspace';

const cli = (dir: string, ...args: string[]) => spawnSync(CLI[0], [CLI[1], '--workspace', dir, ...args], { encoding: 'utf8', timeout: 60_000 });

describe('testbed from its recorded state', () => {
  const ws = tempWorkspace('pol-rec');
  const file = path.join(ws.dir, 'hypershield.testbed.json');
  const original = fs.readFileSync(file, 'utf8');
  after(async () => {
    fs.writeFileSync(file, original);
    await ws.cleanup();
  });

  test('status and down work while the file is broken; up is refused with the file and line', async () => {
    await ws.backend().up();
    assert.deepEqual(namespaces('hs-pol-rec-').sort(), ['hs-pol-rec-client', 'hs-pol-rec-model', 'hs-pol-rec-server']);
    fs.writeFileSync(file, JSON.stringify({ name: 'pol-rec', backend: 'netns', mode: 'fast' }, null, 2));

    const status = cli(ws.dir, 'status');
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, /^Testbed pol-rec \(netns, from .*state\/pol-rec\.json.*\): up, model mode/);
    assert.match(status.stderr, /line 4, column 11: \/mode: must be equal to one of the allowed values: "direct", "model"/);
    assert.doesNotMatch(status.stderr, /schema|delete/i);

    const up = cli(ws.dir, 'up');
    assert.notEqual(up.status, 0);
    assert.match(up.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is not a valid testbed description`));

    const down = cli(ws.dir, 'down');
    assert.equal(down.status, 0, down.stderr);
    assert.match(down.stdout, /Testbed pol-rec is down\./);
    assert.deepEqual(namespaces('hs-pol-rec-'), []);
    assert.ok(fs.existsSync(file), 'the user\'s file is left as it is');
  });
});
