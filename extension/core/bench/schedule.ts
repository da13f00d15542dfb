// The order in which a run measures its cells. Everything compared in one run (placements and modes) is measured
// in rounds: every round measures each placement x mode x benchmark cell once, so slow drift of a shared machine
// spreads over all cells instead of landing on whichever was measured last.
import type { Placement } from '../results/run-file';
import type { Mode } from '../testbed/testbed';

export interface Cell {
  /** 1-based recorded round (the measurement's repetition); warm-up rounds are <= 0. */
  round: number;
  placement: Placement;
  mode: Mode;
  benchmark: string;
}

export const rotate = <T>(items: readonly T[], by: number): T[] => items.map((_, i) => items[(i + by) % items.length]);

/**
 * Rounds 1-warmup .. repetitions. Round k puts the placements in an order rotated by k, so each placement is measured
 * first, second, ... equally often, and each placement is deployed once per round (deploying costs seconds, switching
 * the mode milliseconds). Within a placement the modes are rotated by round and placement (direct,model then
 * model,direct: ABBA across neighbours), which also saves a mode switch at each placement boundary. Benchmarks keep
 * their order: they are never compared with each other.
 */
export function schedule(placements: readonly Placement[], modes: readonly Mode[], benchmarks: readonly string[], warmup: number, repetitions: number): Cell[][] {
  const rounds: Cell[][] = [];
  for (let round = 1 - warmup, k = 0; round <= repetitions; round++, k++) {
    const cells: Cell[] = [];
    rotate(placements, k % placements.length).forEach((placement, j) => {
      for (const mode of rotate(modes, (k + j) % modes.length)) {
        for (const benchmark of benchmarks) cells.push({ round, placement, mode, benchmark });
      }
    });
    rounds.push(cells);
  }
  return rounds;
}
