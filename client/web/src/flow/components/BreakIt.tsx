import { useEffect, useId, useState } from 'react';
import { MODERATION_DELAYS_MS, type KubectlCommands, type ProcessName, type ProcessView } from '../../../../src/flow/wire';
import { FlowApiError, type FlowApi } from '../flowApi';
import { FLOW_SERVICES, serviceLabel, statusOf, type FlowServiceName, type FlowSnapshot } from '../flowModel';

const delayLabel = (ms: number) => (ms === 0 ? 'Off' : `${ms / 1000} s`);

interface Feedback {
  tone: 'ok' | 'error';
  text: string;
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : 'something went wrong');

const canStop = (process: ProcessView) => ['starting', 'ready', 'crashed', 'backing-off'].includes(process.state);
const canStart = (process: ProcessView) => ['stopped', 'crashed', 'backing-off'].includes(process.state);

function Recipe() {
  return (
    <ol className="recipe">
      <li>Stop moderation.</li>
      <li>
        Post a few comments on{' '}
        <a href="/" target="_blank" rel="noopener">
          the blog
        </a>{' '}
        (a new tab): they wait as “Awaiting moderation”.
      </li>
      <li>Watch their events queue by the bus and moderation’s lag grow.</li>
      <li>Start moderation and watch it catch up: each verdict joins the log.</li>
    </ol>
  );
}

function LocalControls({ snapshot, api, onChanged }: { snapshot: FlowSnapshot; api: Pick<FlowApi, 'processAction' | 'moderationDelay'>; onChanged(): void }) {
  const [busy, setBusy] = useState<string | null>(null);
  const [feedback, setFeedback] = useState<Feedback | null>(null);
  const supervisor = snapshot.supervisor;
  const processes = supervisor?.processes ?? [];

  const act = async (key: string, work: () => Promise<void>, done: string) => {
    setBusy(key);
    setFeedback(null);
    try {
      await work();
      setFeedback({ tone: 'ok', text: done });
      onChanged();
    } catch (error) {
      setFeedback({ tone: 'error', text: `Not done: ${messageOf(error)}` });
    } finally {
      setBusy(null);
    }
  };

  const action = (name: ProcessName, verb: 'stop' | 'start') =>
    act(`${verb} ${name}`, () => api.processAction(name, verb), `Asked ${serviceLabel(name as FlowServiceName)} to ${verb}: its state in the list shows when it has.`);

  return (
    <>
      <Recipe />
      <ul className="process-list" aria-label="Processes">
        {processes.map((process) => {
          const health = snapshot.services.find((service) => service.name === process.name);
          const status = statusOf(health, process);
          const label = process.name === 'nats' ? 'NATS' : serviceLabel(process.name as FlowServiceName);
          return (
            <li key={process.name} className="process" data-testid="process" data-process={process.name} data-state={process.state}>
              <span className="process-name">{label}</span>
              <span className="process-state">
                <span className={`state-text state-${status.state}`}>{status.label}</span>
                {process.restarts > 0 ? <span className="muted"> · restarted {process.restarts}×</span> : null}
              </span>
              <span className="process-actions">
                {process.name === 'client' ? (
                  <span className="muted">serves this page</span>
                ) : (
                  <>
                    <button
                      type="button"
                      className="button-small button-danger"
                      aria-label={`Stop ${label}`}
                      disabled={busy !== null || !canStop(process)}
                      onClick={() => void action(process.name, 'stop')}
                    >
                      Stop
                    </button>
                    <button
                      type="button"
                      className="button-small"
                      aria-label={`Start ${label}`}
                      disabled={busy !== null || !canStart(process)}
                      onClick={() => void action(process.name, 'start')}
                    >
                      Start
                    </button>
                  </>
                )}
              </span>
            </li>
          );
        })}
      </ul>
      {processes.length === 0 ? <p className="muted">The local supervisor has not answered yet.</p> : null}
      <fieldset className="delay" disabled={busy !== null || !supervisor}>
        <legend>Slow moderation down</legend>
        <p className="hint">Moderation holds each event this long before its verdict (it restarts to take the new delay).</p>
        <div className="delay-options">
          {MODERATION_DELAYS_MS.map((ms) => (
            <label key={ms} className="radio">
              <input
                type="radio"
                name="moderation-delay"
                value={ms}
                checked={(supervisor?.moderationDelayMs ?? 0) === ms}
                onChange={() => void act('delay', () => api.moderationDelay(ms), ms === 0 ? 'Moderation answers at once again.' : `Moderation now waits ${delayLabel(ms)} per event.`)}
              />
              {delayLabel(ms)}
            </label>
          ))}
        </div>
      </fieldset>
      <div className="control-feedback" aria-live="polite">
        {feedback ? (
          <p className={`notice notice-${feedback.tone}`} data-testid="control-message">
            {feedback.text}
          </p>
        ) : null}
      </div>
    </>
  );
}

function ClusterCommands({ engine, api }: { engine: FlowSnapshot['engine']; api: Pick<FlowApi, 'kubectl'> }) {
  const selectId = useId();
  const [service, setService] = useState<FlowServiceName>('moderation');
  const [commands, setCommands] = useState<KubectlCommands | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let current = true;
    api.kubectl().then(
      (found) => current && setCommands(found),
      (failure: unknown) => current && setError(failure instanceof FlowApiError ? failure.message : messageOf(failure)),
    );
    return () => {
      current = false;
    };
  }, [api, engine]);

  const chosen = commands?.services[service];
  return (
    <>
      <p className="muted">
        No local supervisor runs these processes (as in Kubernetes), so this page does not stop them itself. In a terminal with your
        cluster’s context, these do the same:
      </p>
      <Recipe />
      <label htmlFor={selectId} className="field-label">
        Service
      </label>
      <select id={selectId} value={service} onChange={(change) => setService(change.target.value as FlowServiceName)}>
        {FLOW_SERVICES.map((name) => (
          <option key={name} value={name}>
            {serviceLabel(name)}
          </option>
        ))}
      </select>
      {error ? <p className="notice notice-error">{error}</p> : null}
      {chosen ? (
        <dl className="commands" data-testid="kubectl-commands">
          <dt>Stop it</dt>
          <dd>
            <code>{chosen.stop}</code>
          </dd>
          <dt>Start it</dt>
          <dd>
            <code>{chosen.start}</code>
          </dd>
          <dt>Crash it (Kubernetes starts a new pod)</dt>
          <dd>
            <code>{chosen.crash}</code>
          </dd>
        </dl>
      ) : null}
      {commands ? (
        <>
          <h4 className="subhead">Slow moderation down</h4>
          <ul className="commands-list" data-testid="kubectl-delay">
            {commands.moderationDelay.map(({ ms, command }) => (
              <li key={ms}>
                <span className="delay-name">{delayLabel(ms)}</span> <code>{command}</code>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </>
  );
}

/** "Break it": stop and start services and slow moderation (local), or the kubectl commands for it (cluster). */
export function BreakIt({ snapshot, api, onChanged }: { snapshot: FlowSnapshot | null; api: Pick<FlowApi, 'processAction' | 'moderationDelay' | 'kubectl'>; onChanged(): void }) {
  if (!snapshot) return <p className="muted">Loading…</p>;
  return (
    <div className="break-it" data-testid="break-it" data-mode={snapshot.mode}>
      {snapshot.mode === 'local' ? <LocalControls snapshot={snapshot} api={api} onChanged={onChanged} /> : <ClusterCommands engine={snapshot.engine} api={api} />}
    </div>
  );
}
