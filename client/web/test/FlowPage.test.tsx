/** @jest-environment jsdom */
import './setup';
import { act, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { FlowEvent, FlowSnapshot } from '../../src/flow/wire';
import { FlowApiError } from '../src/flow/flowApi';
import { FlowPage } from '../src/flow/FlowPage';
import { FakeEventSource } from './fakes';
import { FakeFlowApi, flowFactory } from './flowFakes';

function renderFlow(api = new FakeFlowApi(), { live = true, reducedMotion = false, narrow = false } = {}) {
  const user = userEvent.setup();
  const view = render(
    <FlowPage deps={{ api, pollMs: 20, eventSource: live ? (url) => new FakeEventSource(url) : undefined }} reducedMotion={reducedMotion} narrow={narrow} />,
  );
  return { user, api, ...view };
}

/** Opens the page's stream and sends it a snapshot and the recent events, as the client server does. */
async function connect(snapshot: FlowSnapshot, recent: FlowEvent[] = []) {
  const stream = FakeEventSource.latest();
  expect(stream.url).toBe('/flow/api/stream');
  await act(async () => {
    stream.open();
    if (recent.length > 0) stream.emit('events', { events: recent, recent: true });
    stream.emit('snapshot', snapshot);
  });
  return stream;
}

/** Lets the diagram's animation frames run for `ms`, inside act (they change its state). */
const animate = (ms: number) => act(() => new Promise<void>((resolve) => setTimeout(resolve, ms)));

const node = (name: string) => screen.getByTestId(`flow-node-${name}`);
const rows = () => screen.queryAllByTestId('log-row');

beforeEach(() => {
  FakeEventSource.instances = [];
});

describe('the diagram', () => {
  it('when the services are up, then each node says so in words, and each subscriber\'s lag is shown', async () => {
    renderFlow();
    await connect(
      flowFactory.snapshot({
        subscribers: [flowFactory.subscriber('moderation', { types: ['CommentCreated'], position: 7, lag: 3 }), flowFactory.subscriber('query')],
      }),
    );
    expect(node('moderation')).toHaveAttribute('data-state', 'ready');
    expect(node('moderation')).toHaveTextContent('moderation● ready3 behind');
    expect(node('moderation')).toHaveAttribute('data-lag', '3');
    expect(node('query')).toHaveTextContent('up to date');
    expect(screen.getByRole('img', { name: /^moderation: ready; 3 behind/ })).toBe(node('moderation'));
    expect(node('event-bus')).toHaveTextContent('log ends at seq 10');
  });

  it('when a service is down, not ready or stopped, then its node says which, not only by colour', async () => {
    renderFlow();
    await connect(
      flowFactory.snapshot({
        mode: 'local',
        services: [
          { name: 'event-bus', state: 'ready', reason: null },
          { name: 'posts', state: 'not-ready', reason: 'starting' },
          { name: 'comments', state: 'down', reason: 'not answering' },
          { name: 'moderation', state: 'down', reason: 'not answering' },
          { name: 'query', state: 'ready', reason: null },
        ],
        supervisor: flowFactory.localSupervisor({ moderation: { state: 'stopped', pid: null } }),
      }),
    );
    expect(node('posts')).toHaveAttribute('data-state', 'not-ready');
    expect(node('posts')).toHaveTextContent('◐ not ready');
    expect(node('comments')).toHaveAttribute('data-state', 'down');
    expect(node('comments')).toHaveTextContent('✕ down');
    expect(screen.getByRole('img', { name: /^comments: down; not answering/ })).toBeInTheDocument();
    expect(node('moderation')).toHaveAttribute('data-state', 'stopped');
    expect(node('moderation')).toHaveTextContent('■ stopped');
  });

  it('when a new event arrives, then a dot leaves its publisher, waits at the bus for a subscriber that is behind, and goes on once it is delivered', async () => {
    renderFlow();
    const behind = flowFactory.snapshot({
      lastSeq: 10,
      subscribers: [flowFactory.subscriber('moderation', { types: ['CommentCreated'], position: 10, lag: 0 }), flowFactory.subscriber('posts', { types: ['PostCreated'] })],
    });
    const stream = await connect(behind);
    expect(screen.queryAllByTestId('flow-dot')).toHaveLength(0);

    act(() => stream.emit('events', { events: [flowFactory.event(11)] }));
    expect(screen.getAllByTestId('flow-dot')).toHaveLength(1);
    expect(screen.getByTestId('flow-dot')).toHaveAttribute('data-type', 'CommentCreated');
    const start = screen.getByTestId('flow-dot').getAttribute('cx');
    await animate(300);
    // It travels from comments (on the left) towards the bus.
    expect(Number(screen.getByTestId('flow-dot').getAttribute('cx'))).toBeGreaterThan(Number(start));
    // Past the first leg it waits by the bus: moderation's position is still 10.
    await animate(800);
    expect(screen.getByTestId('flow-waiting-moderation')).toHaveTextContent('1 waiting');
    expect(screen.getAllByTestId('flow-dot')).toHaveLength(1);
    expect(screen.queryByTestId('flow-waiting-posts')).not.toBeInTheDocument();

    act(() => stream.emit('snapshot', { ...behind, subscribers: [flowFactory.subscriber('moderation', { types: ['CommentCreated'], position: 11, lag: 0 })] }));
    expect(screen.queryByTestId('flow-waiting-moderation')).not.toBeInTheDocument();
    await animate(1_100);
    expect(screen.queryAllByTestId('flow-dot')).toHaveLength(0);
  });

  it('when the recent events arrive on connecting, then they fill the log but no dots fly', async () => {
    renderFlow();
    await connect(flowFactory.snapshot(), [flowFactory.event(1), flowFactory.event(2)]);
    expect(rows()).toHaveLength(2);
    expect(screen.queryAllByTestId('flow-dot')).toHaveLength(0);
  });

  it('when the viewer prefers reduced motion, then a dot does not travel: it stays where it is shown for its leg', async () => {
    renderFlow(undefined, { reducedMotion: true });
    const stream = await connect(flowFactory.snapshot());
    act(() => stream.emit('events', { events: [flowFactory.event(11, { source: '/posts', type: 'PostCreated' })] }));
    const dot = screen.getByTestId('flow-dot');
    const first = [dot.getAttribute('cx'), dot.getAttribute('cy')];
    await animate(300);
    // Within its first leg (900 ms) it has not moved.
    const later = screen.getByTestId('flow-dot');
    expect([later.getAttribute('cx'), later.getAttribute('cy')]).toEqual(first);
    await animate(1_000);
  });

  it('when the page is narrow, then the diagram uses its tall layout', async () => {
    renderFlow(undefined, { narrow: true });
    await connect(flowFactory.snapshot());
    expect(screen.getByTestId('flow-diagram')).toHaveAttribute('data-layout', 'narrow');
    expect(screen.getByTestId('flow-diagram')).toHaveAttribute('viewBox', '0 0 360 480');
  });

  it('when a service changes state, then a screen reader hears it once', async () => {
    renderFlow();
    const stream = await connect(flowFactory.snapshot());
    const down = flowFactory.snapshot({ services: flowFactory.snapshot().services.map((service) => (service.name === 'query' ? { ...service, state: 'down' as const, reason: 'not answering' } : service)) });
    act(() => stream.emit('snapshot', down));
    expect(screen.getByTestId('announcer')).toHaveTextContent('query is now down.');
  });
});

describe('the log', () => {
  it('when events arrive, then each becomes a row with seq, type, source, id, request id and time, oldest first', async () => {
    renderFlow();
    const stream = await connect(flowFactory.snapshot(), [flowFactory.event(1, { source: '/posts', type: 'PostCreated', data: { id: 'p1', title: 'T' } })]);
    act(() => stream.emit('events', { events: [flowFactory.event(2), flowFactory.event(3, { source: '/moderation', type: 'CommentModerated' })] }));
    expect(rows().map((row) => row.getAttribute('data-seq'))).toEqual(['1', '2', '3']);
    const cells = within(rows()[1]!).getAllByRole('cell').map((cell) => cell.textContent);
    expect(cells.slice(0, 5)).toEqual(['2', 'CommentCreated', '/comments', 'event-2', 'req-2']);
    expect(cells[5]).toMatch(/^\d\d:\d\d:\d\d\.\d{3}$/);
    expect(screen.getByTestId('log-count')).toHaveTextContent('3 events');
    // The same event twice (a reconnect sends the recent ones again) is one row.
    act(() => stream.emit('events', { events: [flowFactory.event(2), flowFactory.event(3, { source: '/moderation', type: 'CommentModerated' })], recent: true }));
    expect(rows()).toHaveLength(3);
  });

  it('when a type is chosen, then only events of that type are listed', async () => {
    const { user } = renderFlow();
    await connect(flowFactory.snapshot(), [
      flowFactory.event(1, { type: 'PostCreated', source: '/posts' }),
      flowFactory.event(2),
      flowFactory.event(3, { type: 'CommentModerated', source: '/moderation' }),
      flowFactory.event(4),
    ]);
    await user.selectOptions(screen.getByLabelText('Type'), 'CommentCreated');
    expect(rows().map((row) => row.getAttribute('data-seq'))).toEqual(['2', '4']);
    await user.selectOptions(screen.getByLabelText('Type'), '');
    expect(rows()).toHaveLength(4);
  });

  it('when an event is opened with the keyboard, then its whole CloudEvent is shown as JSON, and Escape closes it and returns focus', async () => {
    const { user } = renderFlow();
    const event = flowFactory.event(5, { requestid: 'req-abc' });
    await connect(flowFactory.snapshot(), [event]);
    const open = screen.getByRole('button', { name: 'Open event 5, CommentCreated' });
    open.focus();
    await user.keyboard('{Enter}');

    const detail = screen.getByTestId('event-detail');
    expect(within(detail).getByRole('heading', { name: 'Event 5: CommentCreated' })).toHaveFocus();
    expect(JSON.parse(within(detail).getByTestId('event-json').textContent!)).toEqual(event);
    expect(rows()[0]).toHaveAttribute('aria-current', 'true');

    await user.keyboard('{Escape}');
    expect(screen.getByTestId('event-detail')).toHaveTextContent('Choose an event in the log');
    expect(open).toHaveFocus();
  });

  it('when the stream left events out under a flood, then the log says how many', async () => {
    renderFlow();
    const stream = await connect(flowFactory.snapshot(), [flowFactory.event(1)]);
    act(() => stream.emit('events', { events: [], skipped: { after: 1, upTo: 801 } }));
    expect(screen.getByTestId('log-count')).toHaveTextContent('800 not shown');
  });
});

describe('tracing', () => {
  const chain = [
    flowFactory.event(1, { type: 'PostCreated', source: '/posts', requestid: 'req-post', data: { id: 'p1', title: 'T' }, time: '2026-01-01T12:00:00.000Z' }),
    flowFactory.event(2, { requestid: 'req-c', data: { id: 'c9', postId: 'p1', content: 'hi', status: 'pending' }, time: '2026-01-01T12:00:01.000Z' }),
    flowFactory.event(3, { type: 'CommentModerated', source: '/moderation', requestid: 'req-c', data: { id: 'c9', postId: 'p1', content: 'hi', status: 'approved' }, time: '2026-01-01T12:00:01.250Z' }),
    flowFactory.event(4, { type: 'CommentUpdated', requestid: 'req-c', data: { id: 'c9', postId: 'p1', content: 'hi', status: 'approved' }, time: '2026-01-01T12:00:03.750Z' }),
  ];

  it('when an event\'s request is traced, then the chain it caused is listed in order with the time between steps', async () => {
    const { user } = renderFlow();
    await connect(flowFactory.snapshot(), chain);
    await user.click(screen.getByRole('button', { name: 'Open event 3, CommentModerated' }));
    await user.click(screen.getByRole('button', { name: 'Trace its request' }));

    const steps = screen.getAllByTestId('trace-step');
    expect(steps.map((step) => step.getAttribute('data-type'))).toEqual(['CommentCreated', 'CommentModerated', 'CommentUpdated']);
    expect(screen.getAllByTestId('trace-gap').map((gap) => gap.textContent)).toEqual(['+250 ms after the previous step:', '+2.5 s after the previous step:']);
    expect(screen.getByTestId('trace-summary')).toHaveTextContent('3 events, 2.8 s from first to last');
    expect(screen.getByLabelText('Request id, Idempotency-Key or comment id')).toHaveValue('req-c');
  });

  it('when a comment id is traced, then its CommentCreated, CommentModerated and CommentUpdated are found, and a later step joins live', async () => {
    const { user } = renderFlow();
    const stream = await connect(flowFactory.snapshot(), chain.slice(0, 3));
    await user.type(screen.getByLabelText('Request id, Idempotency-Key or comment id'), 'c9{Enter}');
    expect(screen.getAllByTestId('trace-step')).toHaveLength(2);
    act(() => stream.emit('events', { events: [chain[3]!] }));
    expect(screen.getAllByTestId('trace-step').map((step) => step.getAttribute('data-seq'))).toEqual(['2', '3', '4']);
  });

  it('when a write was retried through a restart, then its trace lists each attempt with its answer before the events it caused', async () => {
    const { user } = renderFlow();
    const attempt = (status: number, answer: string, at: string) => ({ requestId: 'req-c', key: 'req-c', service: 'comments', path: '/posts/p1/comments', status, answer, at, ms: 4 });
    const writes = [
      attempt(503, 'the comments service is unavailable; nothing was sent to it, so try again', '2026-01-01T11:59:58.000Z'),
      { ...attempt(201, 'Created', '2026-01-01T12:00:00.990Z'), ms: 12 },
      { ...attempt(201, 'Created', '2026-01-01T12:00:02.000Z'), requestId: 'another', key: 'another' },
    ];
    await connect(flowFactory.snapshot({ writes }), chain);
    await user.click(screen.getByRole('button', { name: 'Open event 2, CommentCreated' }));
    await user.click(screen.getByRole('button', { name: 'Trace its request' }));

    expect(screen.getByTestId('trace-attempts-summary')).toHaveTextContent('2 attempts to write it');
    const attempts = screen.getAllByTestId('trace-attempt');
    expect(attempts.map((item) => item.getAttribute('data-status'))).toEqual(['503', '201']);
    expect(attempts[0]).toHaveTextContent('POST /posts/p1/comments → 503the comments service is unavailable');
    expect(attempts[1]).toHaveTextContent('Created · comments');
    expect(screen.getAllByTestId('trace-step')).toHaveLength(3);
  });

  it('when nothing matches, then it says the page holds no such event', async () => {
    const { user } = renderFlow();
    await connect(flowFactory.snapshot(), chain);
    await user.type(screen.getByLabelText('Request id, Idempotency-Key or comment id'), 'nope{Enter}');
    expect(screen.getByTestId('trace-summary')).toHaveTextContent('No event among the last 1000 the page holds has request id or comment id “nope”.');
  });
});

describe('subscribers', () => {
  it('when the bus lists its subscribers, then each has its position, lag, deliveries, failures, last error and dead letters', async () => {
    renderFlow();
    await connect(
      flowFactory.snapshot({
        subscribers: [
          flowFactory.subscriber('moderation', { position: 40, lag: 12, deliveries: 9, failures: 5, consecutiveFailures: 3, lastError: 'ECONNREFUSED', deadLettered: 1, types: ['CommentCreated'] }),
          flowFactory.subscriber('query', { position: 52, lag: 0 }),
        ],
      }),
    );
    const table = screen.getByRole('table', { name: 'Subscribers' });
    const moderation = within(table).getAllByTestId('subscriber').find((row) => row.getAttribute('data-service') === 'moderation')!;
    expect(within(moderation).getAllByRole('cell').map((cell) => cell.textContent)).toEqual(['CommentCreated', '40', '12 behind', '9', '5 (3 in a row)', 'ECONNREFUSED', '1']);
    expect(within(moderation).getByTestId('subscriber-lag')).toHaveAttribute('data-lag', '12');
    const query = within(table).getAllByTestId('subscriber').find((row) => row.getAttribute('data-service') === 'query')!;
    expect(within(query).getByTestId('subscriber-lag')).toHaveTextContent('up to date');
    expect(within(query).getAllByRole('cell')[0]).toHaveTextContent('every type');
  });

  it('when the bus cannot be read, then the page says so at the bottom, and the tables say they cannot be read', async () => {
    renderFlow();
    await connect(flowFactory.snapshot({ subscribers: null, deadLetters: null, problems: ['Cannot read the subscribers: the event-bus service is unavailable (ECONNREFUSED).'] }));
    expect(screen.getByTestId('flow-problems')).toHaveTextContent('Cannot read the subscribers: the event-bus service is unavailable');
    expect(screen.getByText('The bus cannot be read right now (see the message at the bottom).')).toBeInTheDocument();
  });
});

describe('dead letters', () => {
  const parked = flowFactory.deadLetter({ subscriber: 'http://127.0.0.1:4003/events', seq: 7 });
  const withLetter = () => flowFactory.snapshot({ deadLetters: [parked] });

  it('when the bus has no credentials, then a retry just works', async () => {
    const { user, api } = renderFlow();
    await connect(withLetter());
    await user.click(screen.getByRole('button', { name: 'Retry event 7 for moderation' }));
    expect(await screen.findByTestId('retry-message')).toHaveTextContent('Event 7 goes back to moderation for delivery.');
    expect(api.retries).toEqual([{ letter: { subscriber: parked.subscriber, seq: 7 }, token: undefined }]);
    expect(screen.queryByLabelText('Operator token')).not.toBeInTheDocument();
  });

  it('when the bus refuses the page\'s own credential, then it asks for the operator token in a password field and retries with it', async () => {
    const api = new FakeFlowApi();
    api.operatorToken = 'the-operator-token-123';
    const { user } = renderFlow(api);
    await connect(withLetter());
    await user.click(screen.getByRole('button', { name: 'Retry event 7 for moderation' }));

    expect(await screen.findByRole('alert')).toHaveTextContent('Only the operator may retry dead letters (403)');
    const field = screen.getByLabelText('Operator token');
    expect(field).toHaveAttribute('type', 'password');
    await waitFor(() => expect(field).toHaveFocus());

    await user.type(field, 'a-wrong-token{Enter}');
    expect(await screen.findByRole('alert')).toHaveTextContent('The bus did not accept that operator token (401)');

    await user.clear(field);
    await user.type(field, 'the-operator-token-123');
    await user.click(screen.getByRole('button', { name: 'Retry with this token' }));
    expect(await screen.findByTestId('retry-message')).toHaveTextContent('Event 7 goes back to moderation for delivery.');
    expect(api.retries.map((retry) => retry.token)).toEqual([undefined, 'a-wrong-token', 'the-operator-token-123']);
    expect(screen.queryByLabelText('Operator token')).not.toBeInTheDocument();
  });

  it('when there are none, then it says every event was taken', async () => {
    renderFlow();
    await connect(flowFactory.snapshot({ deadLetters: [] }));
    expect(screen.getByTestId('no-dead-letters')).toBeInTheDocument();
  });
});

describe('break it', () => {
  const local = (supervisor = flowFactory.localSupervisor()) => flowFactory.snapshot({ mode: 'local', supervisor });

  it('when a supervisor runs the processes, then a service can be stopped and started from the page', async () => {
    const { user, api } = renderFlow(new FakeFlowApi(local()));
    const stream = await connect(local());
    const panel = screen.getByTestId('break-it');
    expect(panel).toHaveAttribute('data-mode', 'local');
    expect(within(panel).getByRole('button', { name: 'Start moderation' })).toBeDisabled();
    await user.click(within(panel).getByRole('button', { name: 'Stop moderation' }));
    expect(api.actions).toEqual(['stop moderation']);
    expect(await within(panel).findByTestId('control-message')).toHaveTextContent('Asked moderation to stop: its state in the list shows when it has.');

    act(() => stream.emit('snapshot', local(flowFactory.localSupervisor({ moderation: { state: 'stopped', pid: null } }))));
    expect(within(panel).getByRole('button', { name: 'Stop moderation' })).toBeDisabled();
    await user.click(within(panel).getByRole('button', { name: 'Start moderation' }));
    expect(api.actions).toEqual(['stop moderation', 'start moderation']);
    // The client serves the page: it has no buttons.
    expect(within(panel).queryByRole('button', { name: 'Stop client' })).not.toBeInTheDocument();
  });

  it('when moderation is slowed with the switch, then the chosen delay is sent and shown as chosen once the supervisor has it', async () => {
    const { user, api } = renderFlow(new FakeFlowApi(local()));
    const stream = await connect(local());
    const group = screen.getByRole('group', { name: 'Slow moderation down' });
    expect(within(group).getByRole('radio', { name: 'Off' })).toBeChecked();
    await user.click(within(group).getByRole('radio', { name: '3 s' }));
    expect(api.delays).toEqual([3000]);
    act(() => stream.emit('snapshot', local(flowFactory.localSupervisor({}, 3000))));
    expect(within(group).getByRole('radio', { name: '3 s' })).toBeChecked();
  });

  it('when the supervisor refuses, then the page says it was not done and why', async () => {
    const api = new FakeFlowApi(local());
    api.failActions = new FlowApiError(409, 'the moderation delay works with the embedded engine only');
    const { user } = renderFlow(api);
    await connect(local());
    await user.click(screen.getByRole('radio', { name: '8 s' }));
    expect(await screen.findByTestId('control-message')).toHaveTextContent('Not done: the moderation delay works with the embedded engine only');
  });

  it('when there is no supervisor (a cluster), then it shows the kubectl commands for the chosen service', async () => {
    const { user } = renderFlow();
    await connect(flowFactory.snapshot({ mode: 'cluster' }));
    const panel = screen.getByTestId('break-it');
    expect(panel).toHaveAttribute('data-mode', 'cluster');
    expect(within(panel).queryByRole('button', { name: /^Stop/ })).not.toBeInTheDocument();
    const commands = await within(panel).findByTestId('kubectl-commands');
    expect(commands).toHaveTextContent('kubectl scale deployment moderation-depl --replicas=0');
    expect(commands).toHaveTextContent('kubectl scale deployment moderation-depl --replicas=1');
    expect(commands).toHaveTextContent('kubectl delete pod -l app=moderation');
    expect(within(panel).getByTestId('kubectl-delay')).toHaveTextContent('kubectl set env deployment/moderation-depl MODERATION_DELAY_MS=3000');

    await user.selectOptions(within(panel).getByLabelText('Service'), 'event-bus');
    expect(commands).toHaveTextContent('kubectl scale statefulset event-bus --replicas=0');
  });
});

describe('keeping up', () => {
  it('when the browser has no EventSource, then the page polls the snapshot and the log', async () => {
    const api = new FakeFlowApi(flowFactory.snapshot({ lastSeq: 2 }));
    api.log = [flowFactory.event(1), flowFactory.event(2)];
    renderFlow(api, { live: false });
    await waitFor(() => expect(rows()).toHaveLength(2));
    api.log.push(flowFactory.event(3));
    await waitFor(() => expect(rows()).toHaveLength(3));
    expect(node('moderation')).toHaveAttribute('data-state', 'ready');
  });

  it('when the stream is refused, then the page says it is reconnecting and polls meanwhile', async () => {
    const api = new FakeFlowApi();
    api.log = [flowFactory.event(1)];
    renderFlow(api);
    act(() => FakeEventSource.latest().fail({ closed: true }));
    expect(screen.getAllByRole('status').find((element) => element.classList.contains('live'))).toHaveTextContent('Reconnecting…');
    await waitFor(() => expect(rows()).toHaveLength(1));
  });

  it('has a link back to the blog', () => {
    renderFlow();
    expect(screen.getByRole('link', { name: '← Back to the blog' })).toHaveAttribute('href', '/');
  });
});
