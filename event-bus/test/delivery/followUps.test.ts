import { FollowUps } from '../../src/delivery/batchSender';
import { MemoryEventLog } from '../../src/store/memoryStore';
import type { Envelope } from '@blog/contracts';
import type { AppendResult } from '../../src/store/eventLog';
import { silentLogger } from '../../../test/support/silentLogger';

class FullLog extends MemoryEventLog {
  override append(_envelopes: Envelope[]): Promise<AppendResult[]> {
    return Promise.reject(new Error('SQLITE_FULL: database or disk is full'));
  }
}

const answer = (publish: unknown) => JSON.stringify({ publish });
const followUp = (id: string) => ({ type: 'PostNoticed', id, source: '/reacting', data: { id } });

describe('FollowUps', () => {
  it('when the answer carries follow-up events, then they are stored, in order, and the delivery is done', async () => {
    const log = new MemoryEventLog();
    const followUps = new FollowUps({ log, logger: silentLogger });

    const outcome = await followUps.storeFrom(answer([followUp('a'), followUp('b')]));

    expect(outcome).toEqual({ kind: 'delivered' });
    const stored = (await log.readAfter(0, 10)).map((row) => JSON.parse(row.body) as Envelope);
    expect(stored.map((event) => [event.id, event.source, event.type])).toEqual([
      ['a', '/reacting', 'PostNoticed'],
      ['b', '/reacting', 'PostNoticed'],
    ]);
  });

  it('when the same follow-ups come again (a redelivery), then they are stored once', async () => {
    const log = new MemoryEventLog();
    const followUps = new FollowUps({ log, logger: silentLogger });

    await followUps.storeFrom(answer(followUp('once')));
    await followUps.storeFrom(answer(followUp('once')));

    expect(log.lastSeq).toBe(1);
  });

  it.each([
    ['no answer body', ''],
    ['an answer without publish', '{"ok":true}'],
    ['an empty publish', answer([])],
    ['text that is not JSON', 'done'],
  ])('when the answer has %s, then the delivery is done and nothing is stored', async (_name, text) => {
    const log = new MemoryEventLog();

    expect(await new FollowUps({ log, logger: silentLogger }).storeFrom(text)).toEqual({ kind: 'delivered' });
    expect(log.lastSeq).toBe(0);
  });

  it('when a follow-up is invalid, then nothing is stored and the delivery counts as refused', async () => {
    const log = new MemoryEventLog();

    const outcome = await new FollowUps({ log, logger: silentLogger }).storeFrom(answer([followUp('fine'), { type: 'CommentCreated', data: { id: 'no post id' } }]));

    expect(outcome).toEqual({ kind: 'refused', reason: expect.stringMatching(/^its answer carried follow-up events the bus does not accept/) });
    expect(log.lastSeq).toBe(0);
  });

  it('when the log cannot store them, then the delivery is to be made again (not counted against the event)', async () => {
    const outcome = await new FollowUps({ log: new FullLog(), logger: silentLogger }).storeFrom(answer(followUp('x')));

    expect(outcome).toEqual({ kind: 'unreachable', reason: expect.stringMatching(/^could not store its follow-up events/) });
  });
});
