import path from 'node:path';
import { readRunOptions } from '../src/supervisor/runOptions';

const ROOT = '/repo';
const read = (args: string[] = [], env: NodeJS.ProcessEnv = {}, terminal = true) => readRunOptions(args, env, terminal, ROOT);

describe('how a run is asked for', () => {
  it('when nothing is given, then it is npm start: the embedded engine from the builds on the default ports, logs to files', () => {
    expect(read()).toEqual({
      engine: 'embedded',
      mode: 'start',
      showLogs: false,
      output: 'text',
      portOffset: 0,
      controlPort: 4100,
      logsDir: path.join(ROOT, 'logs'),
      listenHost: '127.0.0.1',
      busDataDir: path.join(ROOT, 'event-bus', 'data'),
      natsStoreDir: path.join(ROOT, 'data', 'nats'),
      moderationDelayMs: 0,
    });
  });

  it('when PORT_OFFSET is set, then the data folders are the offset\'s own, unless DATA_DIR or NATS_STORE_DIR say otherwise', () => {
    expect(read([], { PORT_OFFSET: '10000' })).toMatchObject({ busDataDir: path.join(ROOT, 'event-bus', 'data-10000'), natsStoreDir: path.join(ROOT, 'data', 'nats-10000') });
    expect(read([], { PORT_OFFSET: '10000', DATA_DIR: 'mine', NATS_STORE_DIR: 'nats-mine' })).toMatchObject({ busDataDir: path.join(ROOT, 'event-bus', 'mine'), natsStoreDir: path.join(ROOT, 'nats-mine') });
  });

  it('when stdout is not a terminal, then the output is JSON lines unless text is asked for', () => {
    expect(read([], {}, false).output).toBe('json');
    expect(read(['--output', 'text'], {}, false).output).toBe('text');
    expect(read(['--output', 'json'], {}, true).output).toBe('json');
  });

  it('when --dev is given, then the logs are shown too', () => {
    expect(read(['--dev'])).toMatchObject({ mode: 'dev', showLogs: true });
  });

  it('when PORT_OFFSET is set, then the control port moves with the others unless SUPERVISOR_PORT says otherwise', () => {
    expect(read([], { PORT_OFFSET: '10000' }).controlPort).toBe(14100);
    expect(read([], { PORT_OFFSET: '10000', SUPERVISOR_PORT: '5000' }).controlPort).toBe(5000);
  });

  it('when the folders are given, then relative ones are taken from the repository root', () => {
    expect(read([], { LOGS_DIR: 'here', NATS_STORE_DIR: '/abs/nats' })).toMatchObject({ logsDir: path.join(ROOT, 'here'), natsStoreDir: '/abs/nats' });
  });

  it.each([
    [['--engine', 'kafka'], {}, /--engine must be embedded or nats/],
    [['--output', 'xml'], {}, /--output must be auto, text or json/],
    [['--nope'], {}, /nope/],
    [[], { PORT_OFFSET: '-1' }, /PORT_OFFSET/],
    [[], { SUPERVISOR_PORT: 'x' }, /SUPERVISOR_PORT/],
    [[], { MODERATION_DELAY_MS: '60001' }, /MODERATION_DELAY_MS/],
  ])('when given %p %p, then it refuses with a message naming the problem', (args, env, message) => {
    expect(() => read(args, env)).toThrow(message);
  });
});
