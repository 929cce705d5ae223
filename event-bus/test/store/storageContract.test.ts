import { buildEnvelope, type Envelope } from '@blog/contracts';
import { MemoryEventLog, MemorySubscriberState } from '../../src/store/memoryStore';
import type { EventLog } from '../../src/store/eventLog';
import type { DeadLetter, SubscriberState } from '../../src/store/subscriberState';
import { closeTempStores, openTempStore } from './tempStore';

/** The same cases against every adapter: the bus may run on either without knowing which. */
const adapters: [string, () => { log: EventLog; state: SubscriberState }][] = [
  ['SQLite', () => {
    const store = openTempStore();
    return { log: store, state: store };
  }],
  ['memory', () => ({ log: new MemoryEventLog(), state: new MemorySubscriberState() })],
];

afterEach(closeTempStores);

let counter = 0;
const event = (overrides: Partial<Envelope> = {}): Envelope => ({
  ...buildEnvelope({ type: 'PostCreated', data: { id: `p-${(counter += 1)}`, title: 't' } }, '/contract'),
  ...overrides,
});
const idsOf = async (log: EventLog) => (await log.readAfter(0, 100_000)).map((row) => (JSON.parse(row.body) as Envelope).id);

const letter = (subscriber: string, seq: number): DeadLetter => ({
  subscriber,
  seq,
  id: `id-${seq}`,
  type: 'PostCreated',
  attempts: 3,
  lastError: 'answered 500',
  parkedAt: '2026-01-01T00:00:00.000Z',
});

describe.each(adapters)('the %s storage', (_name, open) => {
  describe('log', () => {
    it('when many appends run concurrently, then none is lost, seqs are consecutive, and each batch stays together in order', async () => {
      const { log } = open();
      const batches = Array.from({ length: 300 }, (_, i) => Array.from({ length: (i % 3) + 1 }, () => event()));

      const answers = await Promise.all(batches.map((batch) => log.append(batch)));

      const total = batches.flat().length;
      expect(log.lastSeq).toBe(total);
      const stored = await idsOf(log);
      expect(stored).toHaveLength(total);
      expect(new Set(stored)).toEqual(new Set(batches.flat().map((e) => e.id)));
      answers.forEach((results, i) => {
        const seqs = results.map((r) => r.seq);
        expect(seqs).toEqual(seqs.map((_, k) => seqs[0]! + k));
        results.forEach((result, k) => expect(stored[result.seq - 1]).toBe(batches[i]![k]!.id));
      });
    });

    it('when the same source and id come again, then the stored seq is answered as a duplicate and nothing is added', async () => {
      const { log } = open();
      const first = event();
      await log.append([first]);

      const again = await log.append([{ ...first, data: { changed: true } }, event(), first]);
      const otherSource = await log.append([{ ...first, source: '/elsewhere' }]);

      expect(again).toEqual([
        { id: first.id, seq: 1, duplicate: true },
        { id: expect.any(String), seq: 2, duplicate: false },
        { id: first.id, seq: 1, duplicate: true },
      ]);
      expect(otherSource).toEqual([{ id: first.id, seq: 3, duplicate: false }]);
      expect(JSON.parse((await log.readOne(1))!.body).data).toEqual(first.data);
    });

    it('when one id repeats within a batch, then it is stored once and both get its seq', async () => {
      const { log } = open();
      const twice = event();

      expect(await log.append([twice, twice])).toEqual([
        { id: twice.id, seq: 1, duplicate: false },
        { id: twice.id, seq: 1, duplicate: true },
      ]);
      expect(log.lastSeq).toBe(1);
    });

    it('when one event of a batch cannot be stored, then none of the batch is, and the log goes on', async () => {
      const { log } = open();
      const good = event();

      await expect(log.append([good, event({ data: { n: BigInt(1) } })])).rejects.toThrow();

      expect(log.lastSeq).toBe(0);
      expect(await log.readAfter(0, 10)).toEqual([]);
      expect(await log.append([good])).toEqual([{ id: good.id, seq: 1, duplicate: false }]);
    });

    it('when read after a position, then it answers pages in order with the seq in each body', async () => {
      const { log } = open();
      const events = Array.from({ length: 25 }, () => event());
      await log.append(events);

      const pages: number[][] = [];
      for (let after = 0; ; ) {
        const page = await log.readAfter(after, 10);
        if (page.length === 0) break;
        pages.push(page.map((row) => row.seq));
        after = page[page.length - 1]!.seq;
      }

      expect(pages.map((page) => page.length)).toEqual([10, 10, 5]);
      expect(pages.flat()).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
      const row = (await log.readAfter(6, 1))[0]!;
      expect(row).toEqual({ seq: 7, type: 'PostCreated', body: JSON.stringify({ ...events[6], seq: 7 }) });
      expect(await log.readAfter(25, 10)).toEqual([]);
      expect(await log.readAfter(100, 10)).toEqual([]);
    });

    it('when one event is read by seq, then it is that event, or nothing past the end', async () => {
      const { log } = open();
      const [first] = [event()];
      await log.append([first!, event()]);

      expect(JSON.parse((await log.readOne(1))!.body)).toMatchObject({ id: first!.id, seq: 1 });
      expect(await log.readOne(3)).toBeUndefined();
      expect(await log.readOne(0)).toBeUndefined();
    });

    it('when appends store new events, then listeners hear of it after the append is answered; duplicates alone stay quiet', async () => {
      const { log } = open();
      const heard: number[] = [];
      const unsubscribe = log.onAppend(() => heard.push(log.lastSeq));
      const first = event();

      await log.append([first]);
      await log.append([first]);
      unsubscribe();
      await log.append([event()]);

      expect(heard).toEqual([1]);
    });
  });

  describe('subscriber state', () => {
    it('when positions are saved, then loading answers the latest of each', () => {
      const { state } = open();

      state.savePositions(new Map([['http://a/events', 3], ['http://b/events', 1]]));
      state.savePositions(new Map([['http://a/events', 7]]));

      expect(state.loadPositions()).toEqual(new Map([['http://a/events', 7], ['http://b/events', 1]]));
    });

    it('when events are parked and unparked, then loading lists those still parked by subscriber, then seq', () => {
      const { state } = open();

      for (const parked of [letter('http://b/events', 2), letter('http://a/events', 9), letter('http://a/events', 4)]) state.park(parked);
      state.unpark('http://b/events', 2);
      state.unpark('http://b/events', 99);

      expect(state.loadDeadLetters()).toEqual([letter('http://a/events', 4), letter('http://a/events', 9)]);
    });
  });
});
