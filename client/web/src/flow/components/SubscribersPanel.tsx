import { formatDuration, serviceLabel, type FlowSnapshot, type SubscriberView } from '../flowModel';

const since = (iso: string | null, now: number) => (iso ? `${formatDuration(now - Date.parse(iso))} ago` : 'never');

function LagCell({ subscriber }: { subscriber: SubscriberView }) {
  const behind = subscriber.lag > 0;
  return (
    <td className="num" data-testid="subscriber-lag" data-lag={subscriber.lag}>
      <span className={`lag ${behind ? 'lag-behind' : 'lag-none'}`}>{behind ? `${subscriber.lag} behind` : 'up to date'}</span>
    </td>
  );
}

/**
 * Each subscriber as the bus sees it: how far it has got (position), how far behind it is (lag), what
 * it was delivered, how often delivery failed and why, and what was parked for it.
 */
export function SubscribersPanel({ snapshot, now = Date.now() }: { snapshot: FlowSnapshot | null; now?: number }) {
  const subscribers = snapshot?.subscribers;
  const engine = snapshot?.engine;
  return (
    <div className="subscribers">
      <p className="muted panel-intro">
        {engine === 'nats'
          ? 'Durable NATS consumers (one per service that reacts to events). Position is the acknowledged floor; lag is what is still pending. posts and query rebuild their views from the stream with consumers of their own, not listed.'
          : 'The bus delivers the log to each subscriber in order and keeps its position: every event up to it is handled. Lag is how many events it still has to get.'}
      </p>
      <div className="table-scroll" tabIndex={0} role="region" aria-label="Subscribers table">
        <table className="data-table" aria-label="Subscribers">
          <thead>
            <tr>
              <th scope="col">Subscriber</th>
              <th scope="col">Receives</th>
              <th scope="col" className="num">
                Position
              </th>
              <th scope="col" className="num">
                Lag
              </th>
              <th scope="col" className="num">
                Deliveries
              </th>
              <th scope="col" className="num">
                Failures
              </th>
              <th scope="col">Last error</th>
              <th scope="col" className="num">
                Dead letters
              </th>
            </tr>
          </thead>
          <tbody>
            {(subscribers ?? []).map((subscriber) => (
              <tr key={subscriber.id} data-testid="subscriber" data-service={subscriber.service ?? ''} data-subscriber={subscriber.id}>
                <th scope="row">
                  <span className="subscriber-name">{subscriber.service ? serviceLabel(subscriber.service) : subscriber.id}</span>
                  {subscriber.service ? <span className="subscriber-id">{subscriber.id}</span> : null}
                </th>
                <td>{subscriber.types ? subscriber.types.join(', ') : 'every type'}</td>
                <td className="num">{subscriber.position}</td>
                <LagCell subscriber={subscriber} />
                <td className="num" title={`${subscriber.eventsDelivered} events in ${subscriber.deliveries} deliveries; last success ${since(subscriber.lastSuccessAt, now)}`}>
                  {subscriber.deliveries}
                </td>
                <td className="num">
                  {subscriber.failures}
                  {subscriber.consecutiveFailures > 0 ? <span className="failing"> ({subscriber.consecutiveFailures} in a row)</span> : null}
                </td>
                <td className="error-cell">{subscriber.lastError ?? '—'}</td>
                <td className="num">{subscriber.deadLettered}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {subscribers === undefined ? <p className="muted">Loading…</p> : null}
      {subscribers === null ? <p className="muted">The bus cannot be read right now (see the message at the bottom).</p> : null}
      {subscribers && subscribers.length === 0 ? <p className="muted">The bus has no subscribers.</p> : null}
    </div>
  );
}
