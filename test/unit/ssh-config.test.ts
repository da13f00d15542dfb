import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseDestination, resolveTarget } from '../../extension/core/hosts/ssh/ssh-config';

describe('~/.ssh/config resolution', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-sshcfg-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const key = path.join(dir, 'id_lab');
  fs.writeFileSync(key, 'not read while resolving');
  const config = path.join(dir, 'config');
  fs.writeFileSync(config, [
    'Host lab-model', '  HostName 192.0.2.10', '  Port 2222', '  User alice', `  IdentityFile ${dir}/missing_key`, `  IdentityFile ${key}`,
    '  ProxyJump bastion', `  UserKnownHostsFile ${dir}/kh1 ${dir}/kh2`,
    'Host bastion', '  HostName 192.0.2.1', '  User jump',
    'Host chain', '  ProxyJump first,second:2200',
    'Host *-test', '  HostName %h.example',
    'Host tunnel', '  ProxyCommand ip netns exec ns nc %h %p',
    'Host *', '  User fallback', '  IdentityAgent none', '',
  ].join('\n'));

  test('HostName, Port, User, the first IdentityFile that exists, known_hosts files, ProxyJump with its own settings', () => {
    const t = resolveTarget({ sshHost: 'lab-model' }, { configFile: config });
    assert.deepEqual([t.host, t.port, t.username, t.identityFile, t.agent], ['192.0.2.10', 2222, 'alice', key, undefined]);
    assert.deepEqual(t.hostKeys, { kind: 'known-hosts', files: [`${dir}/kh1`, `${dir}/kh2`, '/etc/ssh/ssh_known_hosts'], trustFingerprint: undefined });
    assert.deepEqual([t.proxyJump?.host, t.proxyJump?.username, t.proxyJump?.port], ['192.0.2.1', 'jump', 22]);
  });

  test('the testbed file wins over the config; user@host:port destinations; multi-hop ProxyJump; tokens', () => {
    const t = resolveTarget({ sshHost: 'lab-model', sshPort: 22, sshUser: 'root', sshIdentityFile: '~/k', sshTrustFingerprint: 'SHA256:x' }, { configFile: config });
    assert.deepEqual([t.port, t.username, t.identityFile], [22, 'root', path.join(os.homedir(), 'k')]);
    assert.equal(t.hostKeys.kind === 'known-hosts' && t.hostKeys.trustFingerprint, 'SHA256:x');
    const d = resolveTarget({ sshHost: 'bob@198.18.9.9:2022' }, { configFile: config, env: { SSH_AUTH_SOCK: '/run/agent' } });
    assert.deepEqual([d.host, d.port, d.username, d.proxyJump, d.agent], ['198.18.9.9', 2022, 'bob', undefined, undefined], 'IdentityAgent none wins over SSH_AUTH_SOCK');
    const chain = resolveTarget({ sshHost: 'chain' }, { configFile: config });
    assert.deepEqual([chain.proxyJump?.host, chain.proxyJump?.port, chain.proxyJump?.proxyJump?.host], ['second', 2200, 'first'], 'first hop is reached first');
    assert.equal(resolveTarget({ sshHost: 'x-test' }, { configFile: config }).host, 'x-test.example');
    assert.equal(typeof resolveTarget({ sshHost: 'tunnel' }, { configFile: config }).sock, 'function');
    assert.deepEqual(parseDestination('[fd00::1]:2200'), { user: undefined, host: 'fd00::1', port: 2200 });
    assert.throws(() => resolveTarget({}, { configFile: config }), /needs "sshHost"/);
  });
});
