import { MemoryEngine, type PublishReceipt } from '@blog/contracts';
import { AppError, RepeatableWrites, idSealer, idempotencyKeyOf, keyedIds, type RepeatableWrite } from '../src';

describe('idempotencyKeyOf', () => {
  it.each([
    ['no header', undefined, undefined],
    ['a UUID', '0b9f2c8e-8f7e-4c55-9c1e-2f0a3b4c5d6e', '0b9f2c8e-8f7e-4c55-9c1e-2f0a3b4c5d6e'],
    ['printable ASCII with spaces', 'draft 7 of post #3', 'draft 7 of post #3'],
    ['255 characters', 'k'.repeat(255), 'k'.repeat(255)],
  ])('when it is %s, then it answers the key', (_name, header, key) => {
    expect(idempotencyKeyOf(header === undefined ? {} : { 'idempotency-key': header })).toBe(key);
  });

  it.each([
    ['empty', ''],
    ['256 characters', 'k'.repeat(256)],
    ['not ASCII', 'clé'],
    ['a control character', 'a\tb'],
  ])('when it is %s, then it answers 400 naming the header', (_name, header) => {
    expect.assertions(2);
    try {
      idempotencyKeyOf({ 'idempotency-key': header });
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({ status: 400, details: [{ path: 'Idempotency-Key' }] });
    }
  });
});

describe('keyedIds', () => {
  const seal = idSealer('posts-secret-0123456789abcdef');

  it('when the same key is sent again, then it gives the same ids; another key, event type or secret gives others', () => {
    const ids = keyedIds(seal, 'PostCreated', 'key-1');

    expect(keyedIds(seal, 'PostCreated', 'key-1')).toEqual(ids);
    expect(ids.resourceId).not.toBe(ids.eventId);
    expect(keyedIds(seal, 'PostCreated', 'key-2').resourceId).not.toBe(ids.resourceId);
    expect(keyedIds(seal, 'CommentCreated', 'key-1').eventId).not.toBe(ids.eventId);
    const unsealed = keyedIds((id) => id, 'PostCreated', 'key-1');
    expect(unsealed.eventId).not.toBe(ids.eventId);
    expect(keyedIds(idSealer('another-secret-0123456789abcd'), 'PostCreated', 'key-1').eventId).not.toBe(ids.eventId);
  });
});

/** A keyed write of a titled thing into a Map, publishing through a MemoryEngine. */
function titles(engine: MemoryEngine, held: Map<string, string>) {
  return (key: string, title: string): RepeatableWrite<{ id: string; title: string }> => ({
    type: 'PostCreated',
    key,
    make: (id) => ({ id, title }),
    find: (id) => {
      const heldTitle = held.get(id);
      return heldTitle === undefined ? undefined : { resource: { id, title: heldTitle }, same: heldTitle === title };
    },
    store: async (post, eventId): Promise<PublishReceipt> => {
      const receipt = await engine.publish({ type: 'PostCreated', data: post }, { id: eventId });
      if (!receipt.duplicate) held.set(post.id, post.title);
      return receipt;
    },
  });
}

describe('RepeatableWrites', () => {
  it('when a key is repeated, then the event is stored once and both answers are the resource as made', async () => {
    const engine = new MemoryEngine();
    const held = new Map<string, string>();
    const writes = new RepeatableWrites(async () => {});
    const write = titles(engine, held);

    const first = await writes.write(write('k', 'Hello'));
    const again = await writes.write(write('k', 'Hello'));

    expect(again).toEqual(first);
    expect(engine.events).toHaveLength(1);
  });

  it('when the log holds the key but this process does not (another replica, or an answer lost in a crash), then it reads the log and answers from it', async () => {
    const engine = new MemoryEngine();
    const elsewhere = titles(engine, new Map());
    const first = await new RepeatableWrites(async () => {}).write(elsewhere('k', 'Hello'));
    const held = new Map<string, string>();
    const catchUp = jest.fn(async () => {
      for (const { data } of engine.ofType('PostCreated')) {
        const post = data as { id: string; title: string };
        held.set(post.id, post.title);
      }
    });
    const writes = new RepeatableWrites(catchUp);

    await expect(writes.write(titles(engine, held)('k', 'Hello'))).resolves.toEqual(first);
    await expect(writes.write(titles(engine, held)('k', 'Goodbye'))).rejects.toMatchObject({ status: 422 });
    expect(catchUp).toHaveBeenCalledTimes(1);
    expect(engine.events).toHaveLength(1);
  });

  it('when the same key comes with another body, then it answers 422 and stores nothing', async () => {
    const engine = new MemoryEngine();
    const write = titles(engine, new Map());
    const writes = new RepeatableWrites(async () => {});
    await writes.write(write('k', 'Hello'));

    await expect(writes.write(write('k', 'Hello, world'))).rejects.toMatchObject({ status: 422, details: [{ path: 'Idempotency-Key' }] });
    expect(engine.events).toHaveLength(1);
  });

  it('when a repeat arrives while the first is still being stored, then it answers 409 and the first completes', async () => {
    const engine = new MemoryEngine();
    const write = titles(engine, new Map());
    const writes = new RepeatableWrites(async () => {});
    let release!: () => void;
    const slow = write('k', 'Hello');
    const storeSlowly = slow.store;
    slow.store = async (post, eventId) => {
      await new Promise<void>((resolve) => (release = resolve));
      return storeSlowly(post, eventId);
    };

    const first = writes.write(slow);
    await expect(writes.write(write('k', 'Hello'))).rejects.toMatchObject({ status: 409 });
    release();

    await expect(first).resolves.toMatchObject({ title: 'Hello' });
    expect(engine.events).toHaveLength(1);
  });
});
