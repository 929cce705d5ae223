/** A run of consecutive seqs, both ends included: how a repair reports what it lost. */
export interface SeqRange {
  first: number;
  last: number;
}

/** Ascending seqs as runs: [3, 4, 5, 9] → 3-5 and 9. */
export function rangesOf(seqs: readonly number[]): SeqRange[] {
  const ranges: SeqRange[] = [];
  for (const seq of seqs) {
    const last = ranges[ranges.length - 1];
    if (last && last.last === seq - 1) last.last = seq;
    else ranges.push({ first: seq, last: seq });
  }
  return ranges;
}

/** A range as a person reads it: `7` or `3-5`. */
export const rangeText = ({ first, last }: SeqRange): string => (first === last ? `${first}` : `${first}-${last}`);
