// The example policy's settings, the same for every placement: the defaults and what is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MODEL_CONFIG, validateConfig } from '../../extension/core/model/deploy/model-host';
import { configValue } from '../../extension/core/model/deploy/ebpf';

test('the default policy: HSDROP dropped, 30 s timeout, a 256-byte payload window, 65536 flows', () => {
  assert.deepEqual(DEFAULT_MODEL_CONFIG, { pattern: '485344524f50', action: 'drop', flowTimeoutS: 30, windowBytes: 256, maxFlows: 65536, queues: 1 });
  validateConfig(DEFAULT_MODEL_CONFIG);
});

test('windows and table sizes no template supports are refused, naming the range', () => {
  for (const windowBytes of [0, 1025, 2.5]) {
    assert.throws(() => validateConfig({ ...DEFAULT_MODEL_CONFIG, windowBytes }), new RegExp(`inspection window must be 1\\.\\.1024 payload bytes; got ${windowBytes}\\.`));
  }
  for (const maxFlows of [0, 65537]) {
    assert.throws(() => validateConfig({ ...DEFAULT_MODEL_CONFIG, maxFlows }), new RegExp(`flow table size must be 1\\.\\.65536 flows; got ${maxFlows}\\.`));
  }
  validateConfig({ ...DEFAULT_MODEL_CONFIG, windowBytes: 1, maxFlows: 1 });
  validateConfig({ ...DEFAULT_MODEL_CONFIG, windowBytes: 1024, maxFlows: 65536 });
});

test('the eBPF config value carries the window and table size where struct hs_config has them', () => {
  const v = Buffer.from(configValue({ ...DEFAULT_MODEL_CONFIG, windowBytes: 64, maxFlows: 2 }).map((h) => parseInt(h, 16)));
  assert.equal(v.length, 84);
  assert.deepEqual([v.readUInt32LE(0), v.readUInt32LE(4), v.readUInt32LE(8), v.readUInt32LE(12), v.readUInt32LE(80)], [6, 0, 30, 64, 2]);
  assert.equal(v.subarray(16, 22).toString(), 'HSDROP');
});
