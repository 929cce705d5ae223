import { ApiError, httpApi } from '../src/api';

type Call = { input: string; init?: RequestInit };

function fetchAnswering(status: number, body: unknown, calls: Call[] = []) {
  return async (input: string, init?: RequestInit) => {
    calls.push({ input, init });
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  };
}

async function failureOf(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('the API over HTTP', () => {
  it('when a comment is created, then it POSTs JSON to the post\'s comments path and answers the comment', async () => {
    const calls: Call[] = [];
    const api = httpApi(fetchAnswering(201, { id: 'c1', content: 'hi', status: 'pending' }, calls));
    await expect(api.createComment('p/1', 'hi')).resolves.toEqual({ id: 'c1', content: 'hi', status: 'pending' });
    expect(calls[0]).toMatchObject({ input: '/posts/p%2F1/comments', init: { method: 'POST', body: '{"content":"hi"}' } });
    expect(new Headers(calls[0]!.init!.headers).get('content-type')).toBe('application/json');
  });

  it('when a write carries a key, then it is sent as the Idempotency-Key and as the request id, so every attempt shares one trace', async () => {
    const calls: Call[] = [];
    const api = httpApi(fetchAnswering(201, { id: 'p1', title: 'T' }, calls));
    await api.createPost('T', { key: 'k-1' });
    await api.createPost('T');
    const headers = new Headers(calls[0]!.init!.headers);
    expect(headers.get('idempotency-key')).toBe('k-1');
    expect(headers.get('x-request-id')).toBe('k-1');
    expect(new Headers(calls[1]!.init!.headers).has('idempotency-key')).toBe(false);
  });

  it('when the client server could not reach a service, then the failure names it and its state; a 409 is "in-flight"', async () => {
    const down = await failureOf(
      httpApi(fetchAnswering(503, { error: 'the comments service is unavailable', details: [], service: { name: 'comments', state: 'stopped' } })).createComment('p', 'x'),
    );
    expect(down).toMatchObject({ kind: 'unavailable', service: { name: 'comments', state: 'stopped' } });
    const busy = await failureOf(httpApi(fetchAnswering(409, { error: 'still being handled', details: [] })).createComment('p', 'x', { key: 'k' }));
    expect(busy).toMatchObject({ kind: 'in-flight', service: null });
  });

  it('when the view is read, then posts become a list and malformed entries are left out', async () => {
    const api = httpApi(
      fetchAnswering(200, {
        a: { id: 'a', title: 'A', comments: [{ id: 'c', content: 'x', status: 'approved' }, { id: 'bad', status: 'weird' }] },
        b: { id: 'b', title: 'B' },
        junk: 42,
      }),
    );
    await expect(api.listPosts()).resolves.toEqual([
      { id: 'a', title: 'A', comments: [{ id: 'c', content: 'x', status: 'approved' }] },
      { id: 'b', title: 'B', comments: [] },
    ]);
  });

  it.each([
    [400, 'validation'],
    [413, 'validation'],
    [404, 'not-found'],
    [502, 'unavailable'],
    [503, 'unavailable'],
    [504, 'unknown-outcome'],
    [500, 'other'],
  ] as const)('when the answer is %i, then the failure is of kind %s and carries the message', async (status, kind) => {
    const error = await failureOf(httpApi(fetchAnswering(status, { error: 'what was wrong', details: [] })).createPost('t'));
    expect(error).toMatchObject({ kind, status, message: 'what was wrong' });
  });

  it('when a 400 names fields, then each detail keeps its path and message', async () => {
    const body = { error: 'invalid post', details: [{ path: 'title', message: 'Too small' }, { message: 'no path' }] };
    const error = await failureOf(httpApi(fetchAnswering(400, body)).createPost(''));
    expect(error.details).toEqual([
      { path: 'title', message: 'Too small' },
      { path: '(body)', message: 'no path' },
    ]);
  });

  it('when the server cannot be reached at all, then the failure is "unavailable"', async () => {
    const api = httpApi(async () => {
      throw new TypeError('Failed to fetch');
    });
    expect(await failureOf(api.listPosts())).toMatchObject({ kind: 'unavailable', status: null });
  });

  it('when an error answer is not JSON (an HTML page from some proxy), then it still becomes a failure with its status', async () => {
    const error = await failureOf(httpApi(fetchAnswering(503, '<html>Service Unavailable</html>')).listPosts());
    expect(error).toMatchObject({ kind: 'unavailable', status: 503, message: 'the server answered 503' });
  });
});
