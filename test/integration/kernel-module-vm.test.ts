// The kernel template under Debian 12's kernel (6.1) in a VM: it loads with the policy's parameters as the deployer
// passes them, refuses a window no placement supports, shows its counters, and unloads. (The conformance corpus runs
// against it through test/conformance/testbed-runner.ts on a model host whose kernel loads modules.)
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { scaffoldModel } from '../../extension/core/model/scaffold';
import { debianKernelRelease, runInDebianKernel } from '../helpers/debian-kernel-vm';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-kmod-vm-'));
after(() => fs.rmSync(base, { recursive: true, force: true }));

test('the kernel template loads on Debian 12\'s kernel with window= and max_flows=, refuses window=0, and unloads', () => {
  const dir = scaffoldModel(path.join(base, 'model'), 'kernel').dir;
  execFileSync('make', ['-s', '-C', dir, 'kernel', `KDIR=/usr/src/linux-headers-${debianKernelRelease()}`], { stdio: 'pipe' });
  const out = runInDebianKernel({ 'kernel_space.ko': path.join(dir, 'build', 'kernel_space.ko') }, `
if busybox insmod /m/kernel_space.ko window=0; then echo "window=0: loaded"; else echo "window=0: refused"; fi
busybox insmod /m/kernel_space.ko pattern=485344524f50 action=drop flow_timeout=5 window=64 max_flows=2
echo "window $(cat /sys/module/kernel_space/parameters/window) max_flows $(cat /sys/module/kernel_space/parameters/max_flows)"
cat /proc/net/hypershield
busybox unshare -n cat /proc/net/dev >/dev/null && echo "another namespace: made"
if busybox unshare -n cat /proc/net/hypershield >/dev/null 2>&1; then echo "another namespace: hooked"; else echo "another namespace: not hooked"; fi
busybox rmmod kernel_space
if [ -e /proc/net/hypershield ]; then echo "still there"; else echo "unloaded"; fi
busybox dmesg | grep 'kernel_space: ' | sed 's/^\\[[^]]*\\] //'
`);
  assert.match(out, /^window=0: refused$/m);
  assert.match(out, /^kernel_space: window: expected 1\.\.1024 bytes$/m);
  assert.match(out, /^window 64 max_flows 2$/m);
  assert.match(out, /^packets 0\nbytes 0\naccepted 0\ndropped 0\npattern_matches 0\nflows_active 0\nflows_created 0\nflows_expired 0\nflows_table_full 0$/m);
  assert.match(out, /^kernel_space: loaded: pattern 6 bytes, action drop, flow_timeout 5s, window 64, max_flows 2$/m);
  assert.match(out, /^another namespace: made$/m);
  assert.match(out, /^another namespace: not hooked$/m, 'only the namespace that loads the module is hooked');
  assert.match(out, /^unloaded$/m);
});
