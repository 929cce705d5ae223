import type { Server } from 'node:http';
import fc from 'fast-check';
import { decodedOrRaw, expectClientError, expectPrototypeIntact, fcOptions, rawRequest } from './harness';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The endpoints every service has besides its own: probes and metrics must answer whatever junk comes
 * with them, refuse other methods with a JSON 404, and nothing a client sends may end up unbounded in
 * the metrics or unchecked in the request id.
 */
export function describeOperationalEndpoints(setUp: () => Promise<{ server: Server }>): void {
  describe('/healthz, /readyz and /metrics with odd requests', () => {
    it.each(['/healthz', '/readyz', '/metrics'])('when %s is asked with a junk query, headers and body, then it answers 200', async (path) => {
      const { server } = await setUp();
      const answer = await rawRequest(server, {
        method: 'GET',
        path: `${path}?__proto__[polluted]=1&%E0=%A4&x=${'y'.repeat(4000)}`,
        headers: { 'content-type': 'application/json', accept: 'text/html', 'x-forwarded-for': '::1, evil' },
        body: '{"oops',
      });
      expect(answer.status).toBe(200);
      expectPrototypeIntact();
    });

    it.each(['/healthz', '/readyz', '/metrics'])('when %s gets a POST, then it answers 404 JSON', async (path) => {
      const { server } = await setUp();
      const answer = await rawRequest(server, { method: 'POST', path, headers: { 'content-type': 'application/json' }, body: '{}' });
      expectClientError(answer, { status: 404 });
    });

    it.each(['has spaces', '<script>', 'x'.repeat(101), '../../etc', 'ok;drop'])(
      'when the request id %j is not id-like, then the answer carries a fresh UUID instead',
      async (requestId) => {
        const { server } = await setUp();
        const answer = await rawRequest(server, { method: 'GET', path: '/healthz', headers: { 'x-request-id': requestId } });
        expect(answer.headers['x-request-id']).toMatch(UUID);
      },
    );

    it('when many random unknown paths are probed, then each gets a JSON 404 and none of them appears in the metrics', async () => {
      const { server } = await setUp();
      const probed: string[] = [];
      const segment = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-_.~%'.split('')), minLength: 6, maxLength: 16 });
      await fc.assert(
        fc.asyncProperty(fc.array(segment, { minLength: 1, maxLength: 3 }), async (segments) => {
          const path = `/probe-${segments.join('/')}`;
          probed.push(path);
          const answer = await rawRequest(server, { method: 'GET', path });
          expectClientError(answer, { echoed: [path, decodedOrRaw(path)] });
        }),
        fcOptions(30),
      );

      const metrics = await rawRequest(server, { method: 'GET', path: '/metrics' });

      expect(metrics.status).toBe(200);
      expect(metrics.text).toContain('route="unmatched"');
      for (const path of probed) expect(metrics.text).not.toContain(path);
    });
  });
}

