import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MODEL_CONFIG } from '../../extension/core/model/deploy/model-host';
import { HelperRefusal, parseRequest, requestArgv, type HelperRequest } from '../../extension/core/privileged/protocol';

describe('helper requests', () => {
  test('what the workbench sends is what the helper reads', () => {
    const reqs: HelperRequest[] = [
      { op: 'ebpf-attach', testbed: 'nr-a1', holder: 4242, object: '/tmp/hypershield-1000/nr-a1/model/ebpf_model.o', config: { ...DEFAULT_MODEL_CONFIG } },
      { op: 'ebpf-attach', testbed: 'nr-a1', holder: 4242, object: '/tmp/hypershield-1000/nr-a1/model/ebpf_model.o', config: { ...DEFAULT_MODEL_CONFIG, pattern: '', action: 'accept' } },
      { op: 'ebpf-counters', testbed: 'nr-a1', holder: 4242 },
      { op: 'module-unload', testbed: 'nr-a1', holder: 7 },
    ];
    for (const req of reqs) assert.deepEqual(parseRequest(requestArgv(req)), req);
    assert.deepEqual(requestArgv(reqs[2]), ['ebpf-counters', 'testbed=nr-a1', 'holder=4242']);
  });

  test('anything else is refused, naming the problem', () => {
    const refused: Array<[string[], RegExp]> = [
      [['ebpf-counters', 'testbed=a b', 'holder=1'], /testbed must match pattern .*got "a b"/],
      [['ebpf-counters', 'testbed=nr', 'holder=1;id'], /holder must match pattern/],
      [['ebpf-counters', 'testbed=nr', 'holder=0'], /holder must match pattern/],
      [['ebpf-counters', 'testbed=nr'], /missing argument holder/],
      [['ebpf-counters', 'testbed=nr', 'holder=1', 'testbed=other'], /testbed is given twice/],
      [['ebpf-counters', 'testbed=nr', 'holder=1', '--exec'], /"--exec" is not key=value/],
      [['ebpf-attach', 'testbed=nr', 'holder=1', 'object=/tmp/x.o|sh', 'pattern=', 'action=drop', 'flowTimeout=3'], /object must match pattern/],
      [['ebpf-attach', 'testbed=nr', 'holder=1', 'object=relative.o', 'pattern=', 'action=drop', 'flowTimeout=3'], /object must match pattern/],
      [['ebpf-attach', 'testbed=nr', 'holder=1', 'object=/x.o', 'pattern=', 'action=reboot', 'flowTimeout=3'], /action must be equal to one of the allowed values/],
      [['ebpf-attach', 'testbed=nr', 'holder=1', 'object=/x.o', 'pattern=', 'action=drop', 'flowTimeout=99999'], /flow timeout must be 1\.\.86400/],
      [['run', 'argv=/bin/sh'], /unknown operation "run"/],
    ];
    for (const [argv, why] of refused) {
      assert.throws(() => parseRequest(argv), (err: Error) => err instanceof HelperRefusal && why.test(err.message), argv.join(' '));
    }
  });
});
