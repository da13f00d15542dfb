/** One sample of `perf script -F pid,tid,ip,sym,symoff,dso`. */
export interface PerfSample {
  pid: number;
  tid: number;
  /** Run-time address, hex without 0x. */
  ip: string;
  /** Undefined where perf found no symbol ("[unknown]"). */
  symbol?: string;
  /** Offset into the symbol, in bytes. */
  offset?: number;
  /** The mapped file (a path), "[kernel.kallsyms]", "[module]", or a JITed eBPF program's own name. */
  dso: string;
}

/** The fields requested from perf script; the parser below reads exactly these, in this order. */
export const PERF_SCRIPT_FIELDS = 'pid,tid,ip,sym,symoff,dso';

const LINE = /^\s*(-?\d+)\/(-?\d+)\s+([0-9a-f]+)\s+(.*)\s+\((.*)\)$/;
const SYM_OFF = /^(.*)\+0x([0-9a-f]+)$/;

/**
 * Parses `perf script -F pid,tid,ip,sym,symoff,dso` (perf-script(1)): one sample a line, pid/tid, the sampled
 * address, symbol+offset ("[unknown]" without an offset when perf has no symbol; C++ names may hold spaces) and
 * the object in parentheses; a sample perf could not tie to a thread has tid -1. Sample (perf 6.1, cpu-clock, a namespace testbed with the user-space model and
 * with the eBPF model):
 *
 *   27723/27725  ffffffff81e9d0b7 __skb_recv_datagram+0x7 ([kernel.kallsyms])
 *   27723/27725      557e8849aa14 hs_pq_recv_burst+0x204 (/run/hypershield/hfscratch/model/user_space_model)
 *   16680/16695            485f52 [unknown] (/work/main/node_modules/@esbuild/linux-x64/bin/esbuild)
 *   18585/-1     ffffffff8226ec67 _raw_spin_lock+0x17 ([kernel.kallsyms])
 *   16888/16888  ffffffffc00007bd bpf_prog_da811e5cdf6a9bab_hs_scan+0x95 (bpf_prog_da811e5cdf6a9bab_hs_scan)
 */
export function parsePerfScript(text: string): PerfSample[] {
  const samples: PerfSample[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const m = LINE.exec(line);
    if (!m) throw new Error(`perf script: unexpected line "${line}" (expected "pid/tid ip symbol+offset (object)" from perf script -F ${PERF_SCRIPT_FIELDS})`);
    const [, pid, tid, ip, sym, dso] = m;
    const so = SYM_OFF.exec(sym.trim());
    const symbol = so ? so[1] : sym.trim();
    samples.push({
      pid: Number(pid), tid: Number(tid), ip, dso,
      ...(symbol && symbol !== '[unknown]' ? { symbol } : {}),
      ...(so ? { offset: parseInt(so[2], 16) } : {}),
    });
  }
  return samples;
}
