// How a placement is driven through the corpus. A runner builds each case's frames for its own endpoints, lets the
// placement decide them, and reports the verdicts it could observe and the placement's counters at the end of the
// case. Each case starts from a fresh model (empty flow table, zero counters) with the case's config.
import { buildCase, differences, type BuiltPacket, type CaseOutcome, type CaseSpec, type Corpus } from './corpus';

export interface PlacementRunner {
  /** e.g. "eBPF (BPF_PROG_TEST_RUN, kernel 6.18)". */
  readonly label: string;
  /** Runs every case, in order. */
  runAll(corpus: Corpus, cases: CaseSpec[]): Promise<CaseOutcome[]>;
}

export interface CaseReport {
  name: string;
  packets: BuiltPacket[];
  outcome: CaseOutcome;
  differences: string[];
}

/** Runs the corpus through a runner and compares every case with what the corpus expects. */
export async function conformance(runner: PlacementRunner, corpus: Corpus, cases = corpus.cases): Promise<CaseReport[]> {
  const outcomes = await runner.runAll(corpus, cases);
  return cases.map((c, i) => {
    const packets = buildCase(corpus, c, { client: '198.18.1.2', server: '198.18.2.2' });
    return { name: c.name, packets, outcome: outcomes[i], differences: differences(c, packets, outcomes[i]) };
  });
}

/** The cases that do not conform, as a readable block (empty string: all conform). */
export function describeFailures(runner: PlacementRunner, reports: CaseReport[]): string {
  return reports.filter((r) => r.differences.length)
    .map((r) => `${runner.label}: "${r.name}"\n${r.differences.map((d) => `  ${d}`).join('\n')}`).join('\n');
}
