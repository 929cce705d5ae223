import type { RequestListener } from 'node:http';

/**
 * MODERATION_DELAY_MS: each delivery of events (`POST /events`) waits `delayMs` before the app reads it,
 * so comments stay pending that much longer. The wait sits at the door, before anything is parsed or
 * handled, so the handlers are the same as ever: a redelivered comment still gets one verdict (its id is
 * derived from the comment). Order holds because the bus sends a subscriber one delivery at a time and
 * waits for its answer: holding one holds those behind it.
 *
 * A delivery the bus gave up on (it closed the connection after its DELIVERY_TIMEOUT_MS) comes again
 * from the same position; that retry waits only what was left of the first wait, so a delay close to
 * the bus's timeout slows moderation down instead of stopping it.
 */
export function holdDeliveries(app: RequestListener, delayMs: number, now: () => number = Date.now): RequestListener {
  if (delayMs <= 0) return app;
  /** When the wait of a delivery the bus abandoned began; its retry goes on from there. */
  let abandonedWaitBegan: number | null = null;
  return (request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (request.method !== 'POST' || path !== '/events') {
      app(request, response);
      return;
    }
    const began = abandonedWaitBegan ?? now();
    abandonedWaitBegan = null;
    const abandoned = () => {
      clearTimeout(timer);
      abandonedWaitBegan = began;
    };
    const timer = setTimeout(() => {
      response.off('close', abandoned);
      app(request, response);
    }, Math.max(0, began + delayMs - now()));
    response.once('close', abandoned);
  };
}
