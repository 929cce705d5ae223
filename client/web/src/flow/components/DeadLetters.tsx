import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import type { DeadLetterView } from '../../../../src/flow/wire';
import { FlowApiError, type FlowApi } from '../flowApi';
import { formatTime, serviceLabel, type FlowSnapshot } from '../flowModel';

type Letter = { subscriber: string; seq: number };

interface Message {
  tone: 'ok' | 'error';
  text: string;
}

/**
 * Events a subscriber refused too often, parked so the rest could flow, and a way to send one back.
 * Only the operator credential may: where the bus refuses this page's own, the page asks for the
 * operator token (kept in this tab's memory only) and sends it along.
 */
export function DeadLetters({ snapshot, api, onRetried }: { snapshot: FlowSnapshot | null; api: Pick<FlowApi, 'retry'>; onRetried(): void }) {
  const tokenId = useId();
  const [token, setToken] = useState('');
  const [askToken, setAskToken] = useState(false);
  const [pending, setPending] = useState<Letter | null>(null);
  const [waitingFor, setWaitingFor] = useState<Letter | null>(null);
  const [message, setMessage] = useState<Message | null>(null);
  const tokenField = useRef<HTMLInputElement>(null);
  // The field appears when the bus refuses: the cursor goes there.
  useEffect(() => {
    if (askToken) tokenField.current?.focus();
  }, [askToken]);
  const letters = snapshot?.deadLetters;
  const serviceOf = (subscriber: string) => {
    const known = snapshot?.subscribers?.find((candidate) => candidate.id === subscriber)?.service;
    return known ? serviceLabel(known) : subscriber;
  };

  const retry = async (letter: Letter, withToken: string | undefined) => {
    setPending(letter);
    setMessage(null);
    try {
      const { retrying } = await api.retry(letter, withToken);
      setAskToken(false);
      setWaitingFor(null);
      setMessage({
        tone: 'ok',
        text:
          retrying > 0
            ? `Event ${letter.seq} goes back to ${serviceOf(letter.subscriber)} for delivery.`
            : `Event ${letter.seq} was no longer parked for ${serviceOf(letter.subscriber)}.`,
      });
      onRetried();
    } catch (error) {
      const refused = error instanceof FlowApiError && error.needsToken;
      setMessage({ tone: 'error', text: error instanceof Error ? error.message : 'The retry failed.' });
      if (refused) {
        setAskToken(true);
        setWaitingFor(letter);
      }
    } finally {
      setPending(null);
    }
  };

  const onSubmitToken = (submit: FormEvent) => {
    submit.preventDefault();
    if (!waitingFor || token.trim() === '') return;
    void retry(waitingFor, token.trim());
  };

  return (
    <div className="dead-letters">
      <p className="muted panel-intro">
        An event a subscriber refused again and again is parked here, so it does not hold back the ones after it. Fix the cause, then send it back.
      </p>
      <div className="table-scroll" tabIndex={0} role="region" aria-label="Dead letters table">
        <table className="data-table" aria-label="Dead letters">
          <thead>
            <tr>
              <th scope="col">Subscriber</th>
              <th scope="col" className="num">
                Seq
              </th>
              <th scope="col">Type</th>
              <th scope="col" className="num">
                Attempts
              </th>
              <th scope="col">Last error</th>
              <th scope="col">Parked at</th>
              <th scope="col">
                <span className="visually-hidden">Action</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(letters ?? []).map((letter: DeadLetterView) => {
              const busy = pending?.seq === letter.seq && pending.subscriber === letter.subscriber;
              return (
                <tr key={`${letter.subscriber} ${letter.seq}`} data-testid="dead-letter" data-seq={letter.seq} data-subscriber={letter.subscriber}>
                  <th scope="row">{serviceOf(letter.subscriber)}</th>
                  <td className="num">{letter.seq}</td>
                  <td>{letter.type}</td>
                  <td className="num">{letter.attempts}</td>
                  <td className="error-cell">{letter.lastError}</td>
                  <td title={letter.parkedAt}>{formatTime(letter.parkedAt)}</td>
                  <td>
                    <button
                      type="button"
                      className="button-small"
                      disabled={pending !== null}
                      aria-label={`Retry event ${letter.seq} for ${serviceOf(letter.subscriber)}`}
                      onClick={() => void retry({ subscriber: letter.subscriber, seq: letter.seq }, token.trim() || undefined)}
                    >
                      {busy ? 'Retrying…' : 'Retry'}
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {letters === undefined ? <p className="muted">Loading…</p> : null}
      {letters === null ? <p className="muted">The dead letters cannot be read right now.</p> : null}
      {letters && letters.length === 0 ? <p className="muted" data-testid="no-dead-letters">None: every event was taken by every subscriber.</p> : null}
      <div className="retry-feedback" aria-live="polite">
        {message ? (
          <p className={`notice notice-${message.tone}`} role={message.tone === 'error' ? 'alert' : 'status'} data-testid="retry-message">
            {message.text}
          </p>
        ) : null}
      </div>
      {askToken ? (
        <form className="token-form" onSubmit={onSubmitToken}>
          <label htmlFor={tokenId} className="field-label">
            Operator token
          </label>
          <p className="hint" id={`${tokenId}-hint`}>
            Retrying takes the operator credential; this page’s own may only read. In a cluster it is in the Secret
            operator-bus-credential. It stays in this tab’s memory only.
          </p>
          <div className="inline-row">
            <input
              id={tokenId}
              ref={tokenField}
              type="password"
              autoComplete="off"
              spellCheck={false}
              value={token}
              aria-describedby={`${tokenId}-hint`}
              onChange={(change) => setToken(change.target.value)}
            />
            <button type="submit" disabled={pending !== null || token.trim() === ''}>
              Retry with this token
            </button>
          </div>
        </form>
      ) : null}
    </div>
  );
}
