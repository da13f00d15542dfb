// Why a kernel module did not load, from insmod's error and the kernel log:
//   insmod: ERROR: could not insert module /run/.../kernel_space.ko: Invalid module format
//   [  12.3] kernel_space: disagrees about version of symbol module_layout
//   [  12.3] kernel_space: Unknown symbol hs_helper (err -2)
//   [  12.3] kernel_space: `abc' invalid for parameter `flow_timeout'
import type { Diagnostic, Severity } from './diagnostic';

const INSMOD = /^insmod: ERROR: could not insert module (?<path>\S+): (?<reason>.+)$/;
const TIMESTAMP = /^\[\s*\d+\.\d+\]\s*/;

const INSMOD_HINTS: Record<string, string> = {
  'Invalid module format': 'the module was built for another kernel release or architecture: rebuild it against the headers of the model host\'s kernel',
  'Unknown symbol in module': 'the module uses symbols this kernel does not export to it (see the unknown symbols)',
  'Invalid parameters': 'the kernel rejected a module parameter (see the messages about parameters)',
  'File exists': 'a module with this name is already loaded: undeploy it first',
  'Operation not permitted': 'module loading needs CAP_SYS_MODULE, and may be disabled (kernel.modules_disabled) or restricted to signed modules (lockdown)',
  'Key was rejected by service': 'the kernel only loads signed modules (module signature enforcement or Secure Boot lockdown)',
};

/**
 * Load diagnostics for module `name`, attached to its source file (lines found later from the symbol they name).
 * kernelLog holds the kernel log lines written while loading; `failed` says whether insmod failed.
 */
export function parseModuleLoad(insmodOutput: string, kernelLog: string, name: string, sourceFile: string, failed: boolean): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const add = (severity: Severity, message: string, symbol?: string) =>
    diagnostics.push({ file: sourceFile, line: 1, column: 1, severity, message, source: 'load', related: [], ...(symbol ? { symbol } : {}) });

  for (const raw of kernelLog.split('\n')) {
    const line = raw.replace(TIMESTAMP, '').trim();
    if (!line.startsWith(`${name}: `)) {
      // The ELF loader complains before it knows the module's name ("Invalid ELF section header overflow").
      if (failed && /\bELF\b/.test(line)) add('error', line);
      continue;
    }
    const msg = line.slice(name.length + 2);
    let m: RegExpExecArray | null;
    // Kernels without modversions check the version magic string; Debian's check symbol versions first (captured).
    if ((m = /^version magic '([^']*)' should be '([^']*)'/.exec(msg))) {
      add('error', `Version magic mismatch: the module was built for "${m[1].trim()}" but the kernel is "${m[2].trim()}"; rebuild it against the headers of the model host's kernel.`);
    } else if ((m = /^disagrees about version of symbol (\w+)/.exec(msg))) {
      add('error', `The module and the kernel disagree about the version of symbol ${m[1]}: it was built against the headers of another kernel; rebuild it against the headers of the model host's kernel.`);
    } else if ((m = /^Unknown symbol (\w+)/i.exec(msg))) {
      add('error', `${msg}: the kernel does not export this symbol to modules, or no module loaded before provides it`, m[1]);
    } else if ((m = /^unknown parameter [`'](\w+)' ignored/i.exec(msg))) {
      add('warning', `The kernel ignored the unknown parameter ${m[1]}: the module has no such parameter.`);
    } else if ((m = /invalid for parameter [`'](\w+)'/.exec(msg))) {
      add('error', msg, m[1]);
    } else if (/taint/.test(msg) || !failed) {
      add('info', msg);
    } else {
      // The module's own messages, e.g. "action: expected drop or accept" from its parameter checks.
      add('error', msg, /^(\w+): /.exec(msg)?.[1]);
    }
  }
  const insmod = insmodOutput.split('\n').map((l) => INSMOD.exec(l.trim())).find((m) => m);
  if (insmod?.groups) {
    const reason = insmod.groups.reason.trim();
    const hint = INSMOD_HINTS[reason] ?? 'the module\'s init function returned this error';
    add('error', `insmod failed: ${reason}: ${hint}.`, diagnostics.some((d) => d.severity === 'error') ? undefined : 'module_init');
  } else if (failed) {
    add('error', `insmod failed: ${insmodOutput.trim() || 'no message'}`, 'module_init');
  }
  return diagnostics;
}
