// Builds that fail because a library's development files are not installed: the message names the Debian package.
//   gcc:   FILE:58:10: fatal error: pcap.h: No such file or directory
//   clang: FILE:92:10: fatal error: 'pcap.h' file not found
//   ld:    /usr/bin/ld: cannot find -lpcap: No such file or directory
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Diagnostic, DiagnosticSource } from './diagnostic';

/** Headers (as #included) and libraries (as -l names) models use, and the Debian package that provides them. */
const PROVIDERS: ReadonlyArray<{ headers: readonly string[]; lib?: string; pkg: string }> = [
  { headers: ['pcap.h', 'pcap/pcap.h'], lib: 'pcap', pkg: 'libpcap-dev' },
  { headers: ['libmnl/libmnl.h'], lib: 'mnl', pkg: 'libmnl-dev' },
  { headers: ['libnetfilter_queue/libnetfilter_queue.h'], lib: 'netfilter_queue', pkg: 'libnetfilter-queue-dev' },
  { headers: ['libnfnetlink/libnfnetlink.h'], lib: 'nfnetlink', pkg: 'libnfnetlink-dev' },
  { headers: ['bpf/bpf_helpers.h', 'bpf/libbpf.h', 'bpf/bpf.h'], lib: 'bpf', pkg: 'libbpf-dev' },
  { headers: ['libelf.h', 'gelf.h'], lib: 'elf', pkg: 'libelf-dev' },
  { headers: ['zlib.h'], lib: 'z', pkg: 'zlib1g-dev' },
  { headers: ['openssl/ssl.h', 'openssl/evp.h'], lib: 'ssl', pkg: 'libssl-dev' },
  { headers: ['json-c/json.h'], lib: 'json-c', pkg: 'libjson-c-dev' },
  { headers: ['asm/types.h', 'linux/bpf.h', 'linux/netfilter.h'], pkg: 'linux-libc-dev' },
];

const MISSING_HEADER = /^'?(?<header>[\w./+-]+\.h)'?(?:: No such file or directory| file not found)$/;
const MISSING_LIB = /^(?:\S*ld(?:\.\w+)?: )?cannot find -l(?<lib>[\w+.-]+)/;

function install(pkg: string): string {
  return `install the Debian package ${pkg} (apt-get install ${pkg})`;
}

/** A missing-header error gets the package that provides the header, when it is a known one. */
export function withPackageHint(d: Diagnostic): Diagnostic {
  const header = MISSING_HEADER.exec(d.message)?.groups?.header;
  const provider = header && PROVIDERS.find((p) => p.headers.includes(header));
  return provider ? { ...d, message: `${d.message}: ${install(provider.pkg)}` } : d;
}

/** One error per library the linker could not find, at the Makefile line that names it (else line 1). */
export function missingLibraries(output: string, modelDir: string, source: DiagnosticSource): Diagnostic[] {
  const makefile = path.join(modelDir, 'Makefile');
  let lines: string[] = [];
  try {
    lines = fs.readFileSync(makefile, 'utf8').split('\n');
  } catch { /* no Makefile to point into: line 1 */ }
  const libs = new Set(output.split('\n').map((l) => MISSING_LIB.exec(l.trim())?.groups?.lib).filter((l): l is string => !!l));
  return [...libs].map((lib) => {
    const provider = PROVIDERS.find((p) => p.lib === lib);
    const line = lines.findIndex((l) => new RegExp(`-l${lib.replace(/[.+]/g, '\\$&')}\\b`).test(l)) + 1;
    const fix = provider ? install(provider.pkg) : `install the Debian package that provides lib${lib}.so (usually lib${lib}-dev)`;
    return { file: makefile, line: Math.max(line, 1), column: 1, severity: 'error', source, message: `The linker cannot find the library ${lib} (-l${lib}): ${fix}.`, related: [] };
  });
}
