import { test } from 'node:test';
import assert from 'node:assert/strict';
import { routePlan, routeReplaceArgv } from '../../extension/core/testbed/routes';
import { DEFAULT_SUBNETS, addressPlan } from '../../extension/core/testbed/testbed';

const tb = { subnets: { ...DEFAULT_SUBNETS } };

test('model mode: each side reaches the other subnet through the model host, from its own service address', () => {
  assert.deepEqual(routePlan(tb, 'model').map(routeReplaceArgv), [
    ['ip', 'route', 'replace', '198.18.2.0/24', 'via', '198.18.1.1', 'dev', 'to-model', 'src', '198.18.1.2'],
    ['ip', 'route', 'replace', '198.18.1.0/24', 'via', '198.18.2.1', 'dev', 'to-model', 'src', '198.18.2.2'],
  ]);
});

test('direct mode: the same subnets and source addresses, over the client-server link', () => {
  assert.deepEqual(routePlan(tb, 'direct').map(routeReplaceArgv), [
    ['ip', 'route', 'replace', '198.18.2.0/24', 'via', '198.18.3.2', 'dev', 'to-server', 'src', '198.18.1.2'],
    ['ip', 'route', 'replace', '198.18.1.0/24', 'via', '198.18.3.1', 'dev', 'to-client', 'src', '198.18.2.2'],
  ]);
});

test('the plan is symmetric in both modes: each next hop is the peer that owns the address on the chosen link', () => {
  const subnets = { client: '10.1.0.0/24', server: '10.2.0.0/24', direct: '10.3.0.0/24' };
  const a = addressPlan({ subnets });
  for (const mode of ['model', 'direct'] as const) {
    const [c, s] = routePlan({ subnets }, mode);
    assert.deepEqual([c.role, c.subnet, c.src, s.role, s.subnet, s.src], ['client', subnets.server, a.clientOnClientNet, 'server', subnets.client, a.serverOnServerNet]);
    assert.deepEqual([c.via, s.via], mode === 'model' ? [a.modelOnClientNet, a.modelOnServerNet] : [a.serverOnDirectNet, a.clientOnDirectNet]);
  }
});

test('interfaces named by the testbed file (ssh hosts) are asked for exactly the links the mode uses', () => {
  const names: Record<string, string> = { 'client>model': 'eth1', 'server>model': 'ens4', 'client>server': 'eth2', 'server>client': 'ens5' };
  const asked: string[] = [];
  const iface = (role: string, peer: string) => { asked.push(`${role}>${peer}`); return names[`${role}>${peer}`]; };
  assert.deepEqual(routePlan(tb, 'model', iface).map((r) => r.dev), ['eth1', 'ens4']);
  assert.deepEqual(asked, ['client>model', 'server>model']);
  asked.length = 0;
  assert.deepEqual(routePlan(tb, 'direct', iface).map((r) => r.dev), ['eth2', 'ens5']);
  assert.deepEqual(asked, ['client>server', 'server>client']);
});
