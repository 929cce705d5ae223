import { PositionSaver } from '../../src/delivery/deliveryHub';
import { MemorySubscriberState } from '../../src/store/memoryStore';

class CountingState extends MemorySubscriberState {
  saves: Map<string, number>[] = [];
  override savePositions(positions: ReadonlyMap<string, number>): void {
    this.saves.push(new Map(positions));
    super.savePositions(positions);
  }
}

describe('PositionSaver', () => {
  it('when positions change quickly, then they are saved together, the latest of each, once the interval is up', async () => {
    const state = new CountingState();
    const saver = new PositionSaver({ state, flushMs: 20 });

    saver.remember('http://a/events', 1);
    saver.remember('http://b/events', 4);
    saver.remember('http://a/events', 2);
    expect(state.saves).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 60));

    expect(state.saves).toEqual([new Map([['http://a/events', 2], ['http://b/events', 4]])]);
  });

  it('when flushed, then what is waiting is saved now, and nothing is saved when nothing changed', () => {
    const state = new CountingState();
    const saver = new PositionSaver({ state, flushMs: 60_000 });

    saver.remember('http://a/events', 9);
    saver.flush();
    saver.flush();

    expect(state.saves).toEqual([new Map([['http://a/events', 9]])]);
    expect(state.loadPositions()).toEqual(new Map([['http://a/events', 9]]));
  });
});
