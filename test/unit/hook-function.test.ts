// The hook function of each placement, found in the real templates' sources and in the registrations they do not use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findHookFunction } from '../../extension/core/model/hook-function';
import { PLACEMENT_FILES, templatesDir, type ModelPlacement } from '../../extension/core/model/templates';

const source = (p: ModelPlacement) => fs.readFileSync(path.join(templatesDir(), PLACEMENT_FILES[p][0]), 'utf8');

test('each template\'s hook function is found where it is defined, not where it is declared or called', () => {
  for (const [placement, name, definition] of [
    ['kernel', 'hs_hook', /^static unsigned int hs_hook\(/],
    ['ebpf', 'hs_tc_ingress', /^int hs_tc_ingress\(/],
    ['user', 'handle_packet', /^static void handle_packet\(/],
  ] as const) {
    const text = source(placement);
    const hook = findHookFunction(placement, text);
    assert.equal(hook?.name, name, placement);
    assert.match(text.split('\n')[hook!.line], definition, `${placement} line ${hook!.line + 1}`);
  }
});

test('a model that registers its own function is found by the registration', () => {
  const nfq = 'static int cb(struct nfq_q_handle *qh, struct nfgenmsg *m,\n\t      struct nfq_data *nfa, void *data);\n\nint main(void)\n{\n\tqh = nfq_create_queue(h, 0, &cb, NULL);\n}\n\nstatic int cb(struct nfq_q_handle *qh, struct nfgenmsg *m,\n\t      struct nfq_data *nfa, void *data)\n{\n\treturn 0;\n}\n';
  assert.deepEqual(findHookFunction('user', nfq), { name: 'cb', line: 8 });
  const kernel = source('kernel').replaceAll('hs_hook', 'my_filter');
  assert.equal(findHookFunction('kernel', kernel)?.name, 'my_filter');
  const ebpf = 'SEC("tc/ingress")\nstatic __always_inline int\nfilter_it(struct __sk_buff *skb)\n{\n\treturn 0;\n}\n';
  assert.deepEqual(findHookFunction('ebpf', ebpf), { name: 'filter_it', line: 1 });
  assert.equal(findHookFunction('kernel', source('user')), undefined, 'a file without the hook has none');
});
