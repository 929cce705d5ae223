import { PassThrough } from 'node:stream';
import { describeChange, describeSummary, JsonReporter, TextReporter, type RunSummary } from '../src/supervisor/reporter';
import type { StateChange } from '../src/supervisor/supervisedProcess';

/** What the supervisor prints: for a person at a terminal, and as JSON lines when piped. */

function aChange(overrides: Partial<StateChange> = {}): StateChange {
  return { name: 'posts', state: 'ready', pid: 1234, restarts: 0, url: 'http://localhost:4000', ...overrides };
}

function aSummary(overrides: Partial<RunSummary> = {}): RunSummary {
  return {
    engine: 'embedded',
    seconds: 2.345,
    processes: [
      { name: 'event-bus', url: 'http://localhost:4005' },
      { name: 'query', url: 'http://localhost:4002' },
      { name: 'client', url: 'http://localhost:3000' },
    ],
    controlUrl: 'http://127.0.0.1:4100',
    storage: 'event-bus/data/',
    logsDir: 'logs',
    logsShown: false,
    pid: 4321,
    ...overrides,
  };
}

const crash = (exit: Partial<NonNullable<StateChange['exit']>>): StateChange =>
  aChange({ state: 'crashed', pid: null, exit: { code: null, signal: null, at: '2026-01-01T00:00:00.000Z', pid: 1234, ranMs: 2_000, lastOutput: ['boom'], ...exit } });

describe('the text a person reads', () => {
  it.each<[string, StateChange, string[]]>([
    ['starting', aChange({ state: 'starting' }), ['  posts      starting (pid 1234)']],
    ['starting again', aChange({ state: 'starting', restarts: 2 }), ['  posts      starting (pid 1234, restart 2)']],
    ['ready', aChange(), ['✓ posts      ready at http://localhost:4000']],
    ['backing off', aChange({ state: 'backing-off', pid: null, restartInMs: 500 }), ['↻ posts      restarting in 0.5 s']],
    ['stopping', aChange({ state: 'stopping' }), ['  posts      stopping']],
    ['stopped', aChange({ state: 'stopped', pid: null }), ['■ posts      stopped']],
  ])('when a process is %s, then one line says so', (_what, change, lines) => {
    expect(describeChange(change, false)).toEqual(lines);
  });

  it('when a process exits with a code, then the line gives the code and its last output follows', () => {
    expect(describeChange(crash({ code: 1 }), false)).toEqual(['✗ posts      exited with code 1 after 2.0 s', '      │ boom']);
  });

  it('when a process is killed by a signal, then the line names the signal', () => {
    expect(describeChange(crash({ signal: 'SIGKILL' }), false)).toEqual(['✗ posts      was killed by SIGKILL after 2.0 s']);
  });

  it('when the logs are on screen already, then a crash does not repeat its output', () => {
    expect(describeChange(crash({ code: 1 }), true)).toEqual(['✗ posts      exited with code 1 after 2.0 s']);
  });

  it('when everything is ready, then the summary counts the services and gives the URLs, the logs and how to stop', () => {
    const text = describeSummary(aSummary()).join('\n');

    expect(text).toContain('All 3 services ready in 2.3 s.');
    expect(text).toContain('  Event engine:      the embedded bus, its data in event-bus/data/');
    expect(text).toContain('  Open the app:      http://localhost:3000');
    expect(text).toContain('  Read the view:     curl http://localhost:4002/posts');
    expect(text).toContain('  Bus subscribers:   npm run status\n');
    expect(text).toContain('  Processes:         curl http://127.0.0.1:4100/processes');
    expect(text).toContain('  Service logs:      logs/<service>.log (npm start -- --logs shows them here)');
    expect(text).toContain('  Stop everything:   Ctrl+C (or kill 4321)');
  });

  it('when NATS is one of the processes, then it is the engine and not counted as a service', () => {
    const text = describeSummary(aSummary({ engine: 'nats', processes: [{ name: 'nats', url: 'nats://127.0.0.1:4222' }, { name: 'posts', url: 'http://localhost:4000' }] })).join('\n');

    expect(text).toContain('All 1 services ready');
    expect(text).toContain('Event engine:      NATS JetStream at nats://127.0.0.1:4222 (the bus is its HTTP gateway)');
  });

  it('when the bus is not on its default port, then the status command is given its URL', () => {
    const text = describeSummary(aSummary({ processes: [{ name: 'event-bus', url: 'http://localhost:14005' }] })).join('\n');

    expect(text).toContain('npm run status -- --bus-url http://localhost:14005');
  });

  it('when lines are printed, then each state change starts with the time', () => {
    const out = new PassThrough();
    const reporter = new TextReporter({ out, err: new PassThrough(), now: () => new Date(2026, 0, 1, 9, 8, 7) }, false);

    reporter.processChanged(aChange());
    reporter.log('posts', 'hello');

    expect(out.read().toString()).toBe('09:08:07 ✓ posts      ready at http://localhost:4000\n09:08:07 [posts] hello\n');
  });
});

describe('the JSON lines a program reads', () => {
  function jsonReporter() {
    const out = new PassThrough();
    const err = new PassThrough();
    const reporter = new JsonReporter({ out, err, now: () => new Date('2026-01-01T00:00:00.000Z') });
    const lines = (stream: PassThrough) => (stream.read()?.toString() ?? '').trim().split('\n').filter(Boolean).map((line: string) => JSON.parse(line));
    return { reporter, stdout: () => lines(out), stderr: () => lines(err) };
  }

  it('when things happen, then each is one JSON object on a line of its own, with its time and type', () => {
    const { reporter, stdout } = jsonReporter();

    reporter.processChanged(aChange({ state: 'backing-off', pid: null, restartInMs: 500, nextStartAt: '2026-01-01T00:00:00.500Z' }));
    reporter.allReady(aSummary());
    reporter.log('query', '{"level":30}');
    reporter.stopping('SIGINT');
    reporter.stopped();

    expect(stdout()).toEqual([
      { time: '2026-01-01T00:00:00.000Z', type: 'process', name: 'posts', state: 'backing-off', pid: null, restarts: 0, url: 'http://localhost:4000', restartInMs: 500, nextStartAt: '2026-01-01T00:00:00.500Z' },
      expect.objectContaining({ type: 'ready', engine: 'embedded', urls: { 'event-bus': 'http://localhost:4005', query: 'http://localhost:4002', client: 'http://localhost:3000' }, control: 'http://127.0.0.1:4100', pid: 4321 }),
      { time: '2026-01-01T00:00:00.000Z', type: 'log', name: 'query', line: '{"level":30}' },
      { time: '2026-01-01T00:00:00.000Z', type: 'stopping', signal: 'SIGINT' },
      { time: '2026-01-01T00:00:00.000Z', type: 'stopped' },
    ]);
  });

  it('when the supervisor cannot run, then the problem goes to stderr as JSON', () => {
    const { reporter, stdout, stderr } = jsonReporter();

    reporter.problem({ message: 'port 4000 is in use', ports: [{ port: 4000 }] });

    expect(stdout()).toEqual([]);
    expect(stderr()).toEqual([{ time: '2026-01-01T00:00:00.000Z', type: 'error', message: 'port 4000 is in use', ports: [{ port: 4000 }] }]);
  });
});
