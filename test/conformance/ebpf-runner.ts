// The eBPF placement through BPF_PROG_TEST_RUN (`bpftool prog run`): the kernel runs the program on each frame
// exactly as built, and its return value is the verdict. One shell script runs every case, so the same run works on
// this machine's kernel and, in one VM boot, on Debian 12's (test/helpers/debian-kernel-vm.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { configValue, countersFromMap, sumPerCpu } from '../../extension/core/model/deploy/ebpf';
import { buildCase, caseConfig, countersOf, type CaseOutcome, type CaseSpec, type Corpus, type Verdict } from './corpus';
import type { PlacementRunner } from './runner';

const TC_ACT_OK = 0;
const TC_ACT_SHOT = 2;

/**
 * Arguments: OBJECT, then per case CONFIG (hex words as one argument), per packet "SECONDS FILE" (a pause, then the
 * frame), and "--". Each case loads the program afresh (new maps: no flow or counter carries over). Prints one JSON
 * line per packet, then "=== counters", the counter map, and "=== case end".
 */
export const CORPUS_SCRIPT = `set -e
# Debian's busybox initramfs has no sleep applet link.
nap() { if command -v sleep >/dev/null; then sleep "$1"; else busybox sleep "$1"; fi; }
obj=$1; shift
while [ $# -gt 0 ]; do
  cfg=$1; shift
  rm -f /sys/fs/bpf/prog /sys/fs/bpf/hs_config /sys/fs/bpf/hs_counters /sys/fs/bpf/hs_flows /sys/fs/bpf/hs_table
  bpftool prog load "$obj" /sys/fs/bpf/prog type classifier
  bpftool map update pinned /sys/fs/bpf/hs_config key hex 00 00 00 00 value hex $cfg
  while [ "$1" != -- ]; do
    [ "$1" = 0 ] || nap "$1"
    bpftool -j prog run pinned /sys/fs/bpf/prog data_in "$2" repeat 1; echo
    shift 2
  done
  shift
  echo "=== counters"; bpftool -j map dump pinned /sys/fs/bpf/hs_counters; echo
  echo "=== case end"
done`;

/**
 * Runs CORPUS_SCRIPT somewhere (here, or in a VM) and returns what it printed. Arguments that are keys of files
 * name those files: the exec passes their path where the script runs.
 */
export type ScriptExec = (script: string, args: string[], files: Record<string, string>) => string;

export function ebpfRunner(label: string, object: string, workDir: string, exec: ScriptExec): PlacementRunner {
  return {
    label,
    async runAll(corpus: Corpus, cases: CaseSpec[]): Promise<CaseOutcome[]> {
      const files: Record<string, string> = { 'ebpf_model.o': object };
      const args = ['ebpf_model.o'];
      cases.forEach((c, i) => {
        args.push(configValue({ ...caseConfig(corpus, c), queues: 1 }).join(' '));
        buildCase(corpus, c, { client: '198.18.1.2', server: '198.18.2.2' }).forEach((p, j) => {
          const name = `case${i}-packet${j}`;
          fs.writeFileSync(path.join(workDir, name), p.frame);
          files[name] = path.join(workDir, name);
          args.push(String(Math.ceil((p.spec.waitMs ?? 0) / 1000)), name);
        });
        args.push('--');
      });
      const out = exec(CORPUS_SCRIPT, args, files);
      const parts = out.split('=== case end').slice(0, -1);
      if (parts.length !== cases.length) throw new Error(`The eBPF corpus script finished ${parts.length} of ${cases.length} cases:\n${out.slice(-3000)}`);
      return parts.map((part) => {
        const [runs, dump] = part.split('=== counters');
        const verdicts = runs.split('\n').filter((l) => l.trim().startsWith('{')).map((l): Verdict => {
          const retval = (JSON.parse(l) as { retval: number }).retval;
          if (retval !== TC_ACT_OK && retval !== TC_ACT_SHOT) throw new Error(`The eBPF program returned ${retval}, neither TC_ACT_OK nor TC_ACT_SHOT.`);
          return retval === TC_ACT_SHOT ? 'drop' : 'pass';
        });
        return { verdicts, counters: countersOf(countersFromMap(sumPerCpu(JSON.parse(dump.trim())))) };
      });
    },
  };
}
