import type { Problem } from '../useBlog';

/** A service is down: what was not done, and a button to try again. Fixed to the bottom, so nothing moves. */
export function ProblemBanner({ problem, onDismiss }: { problem: Problem | null; onDismiss(): void }) {
  return (
    <div className="banner-slot" aria-live="assertive">
      {problem ? (
        <div className={`banner banner-${problem.kind}`} role="alert">
          <p className="banner-message">{problem.message}</p>
          <div className="banner-actions">
            <button type="button" className="button-primary" onClick={problem.retry}>
              {problem.kind === 'write' ? 'Try again' : 'Retry now'}
            </button>
            <button type="button" className="button-quiet" onClick={onDismiss}>
              Dismiss
            </button>
          </div>
        </div>
      ) : null}
    </div>
  );
}
