import express from 'express';
import request from 'supertest';
import { Lifecycle, healthRoutes, type ReadinessProblem } from '../src/operations';

const damaged: ReadinessProblem = { status: 'damaged', problems: ['the stream ends at seq 150, but a consumer was handed seq 300'], action: 'run the repair' };

function appOf(lifecycle: Lifecycle) {
  const app = express();
  app.use(healthRoutes(lifecycle));
  return app;
}

describe('readiness with a part that can find the process unfit (the event engine)', () => {
  it('when the watched part reports a problem, then the caught-up process is not ready and /readyz says what and what to do; when it clears, ready again', async () => {
    let found: ReadinessProblem | null = null;
    const lifecycle = new Lifecycle();
    lifecycle.watchProblems(() => found);
    lifecycle.markReady();
    expect(lifecycle.isReady).toBe(true);

    found = damaged;
    expect(lifecycle.isReady).toBe(false);
    const answer = await request(appOf(lifecycle)).get('/readyz');
    expect(answer.status).toBe(503);
    expect(answer.body).toEqual(damaged);
    expect((await request(appOf(lifecycle)).get('/healthz')).status).toBe(200);

    found = null;
    expect(lifecycle.isReady).toBe(true);
    expect((await request(appOf(lifecycle)).get('/readyz')).body).toEqual({ status: 'ready' });
  });

  it('when the process marked a problem itself, then that one is reported first', () => {
    const lifecycle = new Lifecycle();
    lifecycle.watchProblems(() => damaged);
    const own: ReadinessProblem = { status: 'damaged', problems: ['a damaged page'], action: 'npm run bus:repair' };
    lifecycle.markProblem(own);
    expect(lifecycle.problem).toBe(own);
  });
});
