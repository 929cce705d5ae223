import { setImmediate as nextTurn } from 'node:timers/promises';
import { TurnBatch } from '../src/engines/turnBatch';

describe('TurnBatch', () => {
  it('when things are added in one turn and more in a later one, then each turn is handed on as one batch and every caller gets its own answer', async () => {
    const batches: number[][] = [];
    const doubler = new TurnBatch<number, number>((batch) => {
      batches.push(batch.map(({ item }) => item));
      for (const { item, resolve, reject } of batch) {
        if (item < 0) reject(new Error(`${item} is negative`));
        else resolve(item * 2);
      }
    });

    const first = [doubler.add(1), doubler.add(2), doubler.add(-3)];
    await nextTurn();
    const later = doubler.add(4);

    expect(await Promise.allSettled([...first, later])).toEqual([
      { status: 'fulfilled', value: 2 },
      { status: 'fulfilled', value: 4 },
      { status: 'rejected', reason: new Error('-3 is negative') },
      { status: 'fulfilled', value: 8 },
    ]);
    expect(batches).toEqual([[1, 2, -3], [4]]);
  });
});
