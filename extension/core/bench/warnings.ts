// Flags measurements whose own figures say the path misbehaved, so a reader does not take an impaired baseline for a
// cheap model, and plans whose repetitions cannot give the verdict they are run for. Benchmarks name their metrics;
// these rules read the names every benchmark of the catalog shares.
import type { Metric } from '../results/run-file';
import { MIN_PAIRED_ROUNDS, MIN_UNPAIRED_VALUES } from '../results/stats';
import { PLAN_OPTIONS, type RunPlan } from './plan';

/** TCP retransmits above this share of the segments sent mean the path reordered or dropped (a clean veth path: ~0). */
export const RETRANSMIT_SHARE_MAX = 0.001;
/** Packet loss, in percent, above which a path on one machine is not healthy. */
export const LOSS_PERCENT_MAX = 0.1;
/** Segment size used to estimate the segments a TCP stream sent from its throughput (Ethernet MSS). */
const MSS_BYTES = 1448;

/**
 * Warnings for one measurement: `retransmits` (segments) against the segments a `throughput` (Gbit/s) stream of
 * `durationS` seconds sent, and `loss` (%). Metrics that are absent raise nothing. Unpinned runs are told to try pinning.
 */
export function pathWarnings(metrics: Record<string, Metric>, durationS: number, pinned = false): string[] {
  const warnings: string[] = [];
  const retransmits = metrics.retransmits?.value;
  const gbit = metrics.throughput?.unit === 'Gbit/s' ? metrics.throughput.value : undefined;
  if (retransmits !== undefined && gbit !== undefined && gbit > 0 && retransmits > 0) {
    const segments = (gbit * 1e9 * durationS) / 8 / MSS_BYTES;
    const share = retransmits / segments;
    if (share > RETRANSMIT_SHARE_MAX) {
      warnings.push(`${Math.round(retransmits)} TCP retransmits, ${(share * 100).toFixed(2)} % of about ${Math.round(segments)} segments ` +
        `(over ${RETRANSMIT_SHARE_MAX * 100} %): the path reordered or dropped packets${pinned ? '' : '; try --pin'}`);
    }
  }
  const loss = metrics.loss;
  if (loss && loss.unit === '%' && loss.value > LOSS_PERCENT_MAX) warnings.push(`${loss.value.toFixed(2)} % of packets lost (over ${LOSS_PERCENT_MAX} %): the path dropped packets`);
  return warnings;
}

/**
 * Warnings for a plan before it runs: repetitions too few for the intervals it will compute. Within a run every
 * comparison (model vs direct, a placement vs none, arm B vs A) pairs rounds and needs MIN_PAIRED_ROUNDS; a run that
 * compares nothing within itself is only compared with other runs (unpaired, MIN_UNPAIRED_VALUES). `option` names
 * how the person chose the number (the CLI's --reps unless told).
 */
export function planWarnings(plan: Pick<RunPlan, 'modes' | 'placements' | 'repetitions'>, opts: { ab?: boolean; option?: string } = {}): string[] {
  const option = opts.option ?? PLAN_OPTIONS.repetitions;
  const paired = [
    ...(plan.modes.includes('direct') && plan.modes.includes('model') ? ['model vs direct'] : []),
    ...(plan.modes.includes('model') && plan.placements?.includes('none') && plan.placements.some((p) => p !== 'none') ? ['each placement vs none'] : []),
    ...(opts.ab ? ['arm B vs A'] : []),
  ];
  if (paired.length && plan.repetitions < MIN_PAIRED_ROUNDS) {
    return [`Too few repetitions (${plan.repetitions}) for a 95 % interval or verdict of ${paired.join(', ')}, which pair rounds: raise ${option} to ${MIN_PAIRED_ROUNDS} or more.`];
  }
  if (!paired.length && plan.repetitions < MIN_UNPAIRED_VALUES) {
    return [`Too few repetitions (${plan.repetitions}) for a 95 % interval or verdict when this run is compared with another: raise ${option} to ${MIN_UNPAIRED_VALUES} or more.`];
  }
  return [];
}
