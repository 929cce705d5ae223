import type { LiveMode } from '../live';

const LABELS: Record<LiveMode, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  polling: 'Reconnecting…',
};

const TITLES: Record<LiveMode, string> = {
  connecting: 'Opening the live update stream',
  live: 'Changes appear as they happen',
  polling: 'The live stream is down; checking for changes every few seconds',
};

/** How the page keeps itself current. */
export function LiveBadge({ mode }: { mode: LiveMode }) {
  return (
    <span className={`live live-${mode}`} role="status" title={TITLES[mode]}>
      <span className="live-dot" aria-hidden="true" />
      {LABELS[mode]}
    </span>
  );
}
