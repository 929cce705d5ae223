import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { EngineOutcomeUnknownError, EngineUnavailableError } from '@blog/contracts';
import { HttpEngine, knownErrorAnswer } from '../src';
import { postCreated } from '../../test/support/factories';

interface FakeBus {
  url: string;
  requests: unknown[];
  close: () => Promise<void>;
}

/** A bus that records each request body and answers with `answer` (default: receipts, seq from 1). */
async function fakeBus(answer?: (body: unknown, attempt: number) => { status: number; body: unknown } | undefined): Promise<FakeBus> {
  const requests: unknown[] = [];
  let seq = 0;
  const app = express();
  app.use(express.json({ limit: '5mb' }));
  app.post('/events', (req, res) => {
    requests.push(req.body);
    const custom = answer?.(req.body, requests.length);
    if (custom?.status === 0) {
      // Status 0: the bus dies with the request read and unanswered.
      req.socket.destroy();
      return;
    }
    if (custom) {
      res.status(custom.status).json(custom.body);
      return;
    }
    const receipt = (event: { id: string }) => ({ id: event.id, seq: (seq += 1) });
    res.status(201).json(Array.isArray(req.body) ? req.body.map(receipt) : receipt(req.body));
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const clientFor = (url: string, retries = 2) => new HttpEngine({ baseUrl: url, source: '/test', retries, timeoutMs: 1000, retryDelayMs: 5 });

describe('the HTTP engine publish', () => {
  it('when one event is published, then it is sent as one CloudEvent and its receipt is returned', async () => {
    const bus = await fakeBus();
    const event = postCreated();

    const receipt = await clientFor(bus.url).publish(event, { id: 'fixed-id' });

    expect(receipt).toEqual({ id: 'fixed-id', seq: 1 });
    expect(bus.requests).toEqual([
      expect.objectContaining({ specversion: '1.0', id: 'fixed-id', source: '/test', type: 'PostCreated', data: event.data }),
    ]);
    await bus.close();
  });

  it('when several events are published in the same turn, then they travel in one request and each gets its own receipt', async () => {
    const bus = await fakeBus();
    const client = clientFor(bus.url);

    const receipts = await Promise.all([1, 2, 3, 4, 5].map((n) => client.publish(postCreated(), { id: `id-${n}` })));

    expect(receipts).toEqual([1, 2, 3, 4, 5].map((n) => ({ id: `id-${n}`, seq: n })));
    expect(bus.requests).toHaveLength(1);
    expect((bus.requests[0] as { id: string }[]).map((e) => e.id)).toEqual(['id-1', 'id-2', 'id-3', 'id-4', 'id-5']);
    await bus.close();
  });

  it('when the bus answers 503 and then recovers, then the retry carries the same event id', async () => {
    const bus = await fakeBus((_body, attempt) => (attempt < 3 ? { status: 503, body: { error: 'busy' } } : undefined));

    const receipt = await clientFor(bus.url).publish(postCreated(), { id: 'same-id' });

    expect(receipt.id).toBe('same-id');
    expect(bus.requests.map((r) => (r as { id: string }).id)).toEqual(['same-id', 'same-id', 'same-id']);
    await bus.close();
  });

  it('when the bus stays unreachable, then publish fails with a 503 EngineUnavailableError after the retries', async () => {
    const bus = await fakeBus();
    await bus.close();

    const failure = clientFor(bus.url, 1).publish(postCreated());

    await expect(failure).rejects.toBeInstanceOf(EngineUnavailableError);
    // What a service answers for it: 503, with the reason.
    expect(knownErrorAnswer(await failure.catch((error: unknown) => error))).toMatchObject({
      status: 503,
      body: { details: [{ message: expect.stringMatching(/unreachable/) }] },
    });
  });

  it('when the bus refuses the event with a 400, then publish fails at once without retrying', async () => {
    const bus = await fakeBus(() => ({ status: 400, body: { error: 'invalid event' } }));

    await expect(clientFor(bus.url).publish(postCreated())).rejects.toThrow(/bus rejected PostCreated: 400/);
    expect(bus.requests).toHaveLength(1);
    await bus.close();
  });

  it('when the bus dies after reading the request, then the client keeps retrying past its retry count until it gets an answer', async () => {
    const bus = await fakeBus((_body, attempt) => (attempt <= 5 ? { status: 0, body: null } : undefined));

    const receipt = await clientFor(bus.url, 1).publish(postCreated(), { id: 'maybe-stored' });

    expect(receipt.id).toBe('maybe-stored');
    expect(bus.requests).toHaveLength(6);
    await bus.close();
  });

  it('when the outcome stays unknown past the deadline, then publish fails with a 504, never a 503', async () => {
    const bus = await fakeBus(() => ({ status: 0, body: null }));
    const client = new HttpEngine({ baseUrl: bus.url, source: '/test', retries: 1, timeoutMs: 1000, retryDelayMs: 5, unknownOutcomeMs: 200 });

    const failure = client.publish(postCreated());

    await expect(failure).rejects.toBeInstanceOf(EngineOutcomeUnknownError);
    expect(knownErrorAnswer(await failure.catch((error: unknown) => error))).toMatchObject({ status: 504 });
    await bus.close();
  });
});
