import { rangeText, rangesOf } from '../src/seqRanges';

describe('seq ranges, as the repairs report what they lost', () => {
  it('when seqs are given in order, then consecutive ones make one range and a gap starts the next', () => {
    expect(rangesOf([3, 4, 5, 9, 11, 12])).toEqual([
      { first: 3, last: 5 },
      { first: 9, last: 9 },
      { first: 11, last: 12 },
    ]);
    expect(rangesOf([])).toEqual([]);
  });

  it('when a range is printed, then a single seq reads as itself and a run as first-last', () => {
    expect(rangesOf([3, 4, 5, 9]).map(rangeText)).toEqual(['3-5', '9']);
  });
});
