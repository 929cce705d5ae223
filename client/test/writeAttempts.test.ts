import { WriteAttempts } from '../src/writeAttempts';

const attempt = (n: number) => ({ requestId: `r-${n}`, key: null, service: 'posts', path: '/posts', status: 201, answer: 'Created', at: new Date(n).toISOString(), ms: 1 });

describe('WriteAttempts', () => {
  it('when more are recorded than it keeps, then the oldest drop off and the newest stay in order', () => {
    const attempts = new WriteAttempts(3);
    for (let n = 1; n <= 5; n += 1) attempts.record(attempt(n));
    expect(attempts.recent().map((kept) => kept.requestId)).toEqual(['r-3', 'r-4', 'r-5']);
  });

  it('when what it answered is changed, then what it keeps is not', () => {
    const attempts = new WriteAttempts();
    attempts.record(attempt(1));
    attempts.recent()[0]!.status = 500;
    expect(attempts.recent()[0]!.status).toBe(201);
  });
});
