import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { installMissing, runDoctor, testbedAccessible, type Finding } from '../../core/doctor';
import { ROLES, type Host, type Role } from '../../core/hosts/host';
import { MODES, TESTBED_FILE, type Mode } from '../../core/testbed/testbed';
import { announce } from '../announce';
import { withCancellableProgress } from '../progress';
import type { Services } from '../services';
import type { TestbedNode } from '../tree/testbed-tree';
import type { CommandSpec } from './registry';

const TESTBED_TEMPLATE = {
  name: 'lab',
  backend: 'netns',
  mode: 'model',
  subnets: { client: '198.18.1.0/24', server: '198.18.2.0/24', direct: '198.18.3.0/24' },
};

/** Wraps testbed operations so that one runs at a time: up, down and mode changes must not interleave. */
function oneAtATime(): <A extends unknown[], T>(name: string, work: (...args: A) => Promise<T>) => (...args: A) => Promise<T> {
  let busy: string | undefined;
  return (name, work) => async (...args) => {
    if (busy) throw new Error(`Cannot ${name} while ${busy} is still running; wait for it or cancel it.`);
    busy = name;
    try {
      return await work(...args);
    } finally {
      busy = undefined;
    }
  };
}

/** The terminal command line of a host: a shell inside it. */
function shellOf(host: Host): { shellPath: string; shellArgs: string[] } {
  const [shellPath, ...shellArgs] = host.shellArgv();
  return { shellPath, shellArgs };
}

function roleOf(arg: unknown): Role | undefined {
  if (arg === 'client' || arg === 'model' || arg === 'server') return arg;
  const node = arg as TestbedNode | undefined;
  return node?.kind === 'host' ? node.host.role : undefined;
}

function modeOf(arg: unknown): Mode | undefined {
  return (MODES as readonly unknown[]).includes(arg) ? (arg as Mode) : undefined;
}

export function testbedCommands(s: Services): CommandSpec[] {
  const { workbench, log } = s;
  const exclusive = oneAtATime();

  const up = exclusive('bring the testbed up', async () => {
    const backend = await workbench.backend();
    const problems = await backend.preflight();
    if (problems.length) throw new Error(`The testbed cannot come up:\n${problems.join('\n')}`);
    const started = Date.now();
    try {
      await withCancellableProgress(`Bringing testbed ${backend.testbed.name} up`, log, (opts) => backend.up(opts));
    } finally {
      await workbench.readTestbed();
    }
    const msg = `Testbed ${backend.testbed.name} (${backend.testbed.backend}) is up in ${backend.state.read()?.mode} mode (${Date.now() - started} ms).`;
    log.info(msg);
    void announce(msg);
    return workbench.testbed;
  });

  // From the recorded state when the description cannot be read: a broken file must not strand a running testbed.
  const down = exclusive('bring the testbed down', async () => {
    const { backend, fileError } = await workbench.describedOrRecorded();
    const from = fileError ? ' (from its recorded state)' : '';
    try {
      await withCancellableProgress(`Bringing testbed ${backend.testbed.name} down${from}`, log, (opts) => backend.down(opts));
    } finally {
      await workbench.readTestbed();
    }
    const msg = `Testbed ${backend.testbed.name} is down${from}.`;
    log.info(msg);
    void announce(msg);
    return workbench.testbed;
  });

  const switchMode = exclusive('switch the mode', async (arg?: unknown) => {
    const backend = await workbench.backend();
    const current = backend.state.read();
    if (current?.phase !== 'up') throw new Error(`Testbed ${backend.testbed.name} is not up: bring it up first.`);
    let mode = modeOf(arg);
    if (!mode) {
      const other: Mode = current.mode === 'model' ? 'direct' : 'model';
      const picks = MODES.map((m) => ({ label: m, description: m === 'model' ? 'client → model → server' : 'client → server (baseline)', detail: m === current.mode ? 'current mode' : undefined, mode: m }));
      const pick = await vscode.window.showQuickPick(picks.sort((a) => (a.mode === other ? -1 : 1)), { title: `Mode of testbed ${backend.testbed.name}`, placeHolder: `Now: ${current.mode}` });
      if (!pick) return undefined;
      mode = pick.mode;
    }
    const target = mode;
    try {
      await withCancellableProgress(`Switching testbed ${backend.testbed.name} to ${target} mode`, log, (opts) => backend.setMode(target, opts));
    } finally {
      await workbench.readTestbed();
    }
    void announce(`Testbed ${backend.testbed.name} is in ${target} mode: ${target === 'model' ? 'client → model → server' : 'client → server, the model host bypassed'}`);
    return target;
  });

  return [
    { id: 'hypershield.testbed.up', run: up },
    { id: 'hypershield.testbed.down', run: down },
    { id: 'hypershield.testbed.switchMode', run: switchMode },
    {
      id: 'hypershield.testbed.openTerminal',
      run: async (arg?: unknown) => {
        const backend = await workbench.backend();
        let role = roleOf(arg);
        if (!role) {
          role = (await vscode.window.showQuickPick(ROLES.map((r) => ({ label: r, role: r })), { title: 'Open a terminal on which host?' }))?.role;
          if (!role) return undefined;
        }
        const host = backend.host(role);
        const where = `${backend.testbed.name}:${role}`;
        const terminal = vscode.window.createTerminal({
          name: `HyperShield ${role}`, iconPath: new vscode.ThemeIcon('terminal'), ...shellOf(host),
          // Debian's bashrc files put $debian_chroot before the prompt: "(lab:server)root@…#".
          env: { debian_chroot: where },
          message: `HyperShield: a shell on the ${role} host of testbed ${backend.testbed.name} (${host.label}).`,
        });
        terminal.show();
        return terminal;
      },
    },
    {
      id: 'hypershield.testbed.openConsoleLog',
      run: async (arg?: unknown) => {
        const node = arg as TestbedNode | undefined;
        let file = node?.kind === 'host' ? node.host.consoleLog : undefined;
        if (!file) {
          // From the palette (or a role): the VMs whose console the backend keeps, as their status says.
          const backend = await workbench.backend();
          const wanted = roleOf(arg);
          const logs = (await Promise.all(ROLES.filter((r) => !wanted || r === wanted).map(async (role) => ({ role, file: (await backend.host(role).status()).consoleLog }))))
            .filter((l): l is { role: Role; file: string } => !!l.file);
          if (!logs.length) {
            throw new Error(`Testbed ${backend.testbed.name} has no ${wanted ? `${wanted} ` : ''}VM with a console log: VMs are hosts of the qemu backend, and their log is kept from \`up\` until \`down\`.`);
          }
          file = logs.length === 1 ? logs[0].file
            : (await vscode.window.showQuickPick(logs.map((l) => ({ label: l.role, description: l.file, file: l.file })), { title: 'Open the console log of which VM?' }))?.file;
          if (!file) return undefined;
        }
        if (!fs.existsSync(file)) throw new Error(`The console log ${file} does not exist (yet): the VM writes it from its first boot message on.`);
        await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: false });
        return file;
      },
    },
    { id: 'hypershield.testbed.refresh', run: () => workbench.readTestbed() },
    {
      id: 'hypershield.testbed.createFile',
      run: async () => {
        const file = path.join(workbench.requireFolder(), TESTBED_FILE);
        if (!fs.existsSync(file)) fs.writeFileSync(file, JSON.stringify(TESTBED_TEMPLATE, null, 2) + '\n', { flag: 'wx' });
        await vscode.window.showTextDocument(vscode.Uri.file(file));
        return file;
      },
    },
    {
      id: 'hypershield.doctor',
      run: async () => {
        const { findings, access } = await runDoctor();
        const privileged = testbedAccessible(access);
        for (const f of findings) log.info(`doctor: ${f.ok ? 'ok' : 'MISSING'} ${f.feature} ${f.what}${f.ok ? '' : ` (apt-get install ${f.pkg})`}`);
        for (const a of access) log.info(`doctor: ${a.ok ? 'ok' : 'no'} ${a.what}: ${a.how}`);
        const missing = findings.filter((f) => !f.ok);
        if (!missing.length && privileged) {
          const ebpf = access.find((a) => a.what === 'ebpf placement' && !a.ok);
          void vscode.window.showInformationMessage(`HyperShield doctor: all ${findings.length} prerequisites are present.${ebpf ? ` The eBPF placement: ${ebpf.how}.` : ''}`);
          return { findings, privileged };
        }
        const summary = [...missing.map((f) => `${f.what} (${f.pkg})`), ...(privileged ? [] : [`the namespace testbed (${access[0]?.how})`])].join(', ');
        void vscode.window.showWarningMessage(`HyperShield doctor: missing ${summary}.`, 'Install Missing', 'Show Logs').then((pick) => {
          if (pick === 'Show Logs') log.show();
          if (pick === 'Install Missing') void vscode.commands.executeCommand('hypershield.doctor.install', missing);
        });
        return { findings, privileged };
      },
    },
    {
      id: 'hypershield.doctor.install',
      run: async (missing?: unknown) => {
        const list = Array.isArray(missing) ? (missing as Finding[]) : (await runDoctor()).findings.filter((f) => !f.ok);
        const installed = await withCancellableProgress('Installing missing packages', log, () => installMissing(list, (chunk) => log.info(chunk.trimEnd())));
        void vscode.window.showInformationMessage(installed.length ? `HyperShield: installed ${installed.join(' ')}.` : 'HyperShield: nothing to install.');
        return installed;
      },
    },
    { id: 'hypershield.showLogs', run: () => log.show() },
  ];
}
