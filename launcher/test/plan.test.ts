import path from 'node:path';
import { planRun, ROOT, type PlanOptions, type ProcessSpec } from '../src/supervisor/plan';

function plan(overrides: Partial<PlanOptions> = {}) {
  return planRun({ engine: 'embedded', mode: 'start', portOffset: 0, controlPort: 4100, env: { PATH: '/usr/bin', HOME: '/home/me' }, ...overrides });
}
const spec = (specs: ProcessSpec[], name: string) => specs.find((s) => s.name === name)!;

/** The processes of a run: what each is started as, and what it is told about the others. Needs `npm run build` (it checks the entries exist). */
describe('the plan of a run', () => {
  it('when started as npm start, then each service is node on its build, in its own folder, no npm or shell between', () => {
    const { specs } = plan();

    expect(specs.map((s) => s.name)).toEqual(['event-bus', 'posts', 'comments', 'moderation', 'query', 'client']);
    for (const s of specs) {
      expect(s).toMatchObject({ command: process.execPath, args: [path.join(ROOT, s.name, 'dist', 'index.js')], cwd: path.join(ROOT, s.name) });
    }
  });

  it('when started, then each process keeps the environment it inherits and is told its port and where the others are', () => {
    const { specs } = plan({ portOffset: 10_000, controlPort: 14_100 });

    expect(spec(specs, 'posts').env).toMatchObject({ HOME: '/home/me', PORT: '14000', EVENT_BUS_URL: 'http://localhost:14005' });
    expect(spec(specs, 'event-bus').env.SUBSCRIBERS).toBe(
      'posts=http://localhost:14000/events,comments=http://localhost:14001/events,moderation=http://localhost:14003/events,query=http://localhost:14002/events',
    );
    expect(spec(specs, 'client').env).toMatchObject({
      PORT: '13000',
      POSTS_URL: 'http://localhost:14000',
      COMMENTS_URL: 'http://localhost:14001',
      QUERY_URL: 'http://localhost:14002',
      MODERATION_URL: 'http://localhost:14003',
      EVENT_BUS_URL: 'http://localhost:14005',
      SUPERVISOR_URL: 'http://127.0.0.1:14100',
    });
    expect(spec(specs, 'posts').readyUrl).toBe('http://127.0.0.1:14000/readyz');
    expect(spec(specs, 'posts').url).toBe('http://localhost:14000');
  });

  it('when started, then only the client is told where the control API is', () => {
    const { specs } = plan();

    expect(specs.filter((s) => s.env.SUPERVISOR_URL !== undefined).map((s) => s.name)).toEqual(['client']);
  });

  it('when started, then every port, the control API\'s included, is claimed with who wants it', () => {
    expect(plan().ports).toEqual([
      { port: 4005, wantedBy: 'event-bus' },
      { port: 4000, wantedBy: 'posts' },
      { port: 4001, wantedBy: 'comments' },
      { port: 4003, wantedBy: 'moderation' },
      { port: 4002, wantedBy: 'query' },
      { port: 3000, wantedBy: 'client' },
      { port: 4100, wantedBy: 'the supervisor (its control API)' },
    ]);
  });

  it('when the engine is NATS, then nats-server comes first, every service is told NATS_URL, and its ports are claimed too', () => {
    const { specs, ports, files } = plan({ engine: 'nats', nats: { program: '/usr/sbin/nats-server', storeDir: '/data/nats' } });

    expect(specs[0]).toMatchObject({
      name: 'nats',
      command: '/usr/sbin/nats-server',
      args: ['-c', '/data/nats/nats.conf'],
      readyUrl: 'http://127.0.0.1:8222/healthz',
      url: 'nats://127.0.0.1:4222',
    });
    // One server, every write synced before it is acknowledged, on loopback only.
    expect(files).toEqual([{ path: '/data/nats/nats.conf', text: expect.stringContaining('sync_interval: always') }]);
    expect(files[0]!.text).toContain('listen: "127.0.0.1:4222"');
    expect(files[0]!.text).toContain('http: "127.0.0.1:8222"');
    expect(files[0]!.text).toContain('store_dir: "/data/nats"');
    expect(files[0]!.text).not.toContain('cluster');
    for (const s of specs.slice(1)) expect(s.env.NATS_URL).toBe('nats://127.0.0.1:4222');
    expect(spec(specs, 'event-bus').env.SUBSCRIBERS).toBeUndefined();
    expect(ports).toEqual(expect.arrayContaining([{ port: 4222, wantedBy: 'nats' }, { port: 8222, wantedBy: 'nats (monitoring)' }]));
  });

  it('when started as npm run dev, then each service runs its own package\'s dev script, with readable logs', () => {
    const { specs } = plan({ mode: 'dev' });

    expect(spec(specs, 'posts')).toMatchObject({ command: 'sh', args: ['-c', expect.stringContaining('nodemon')], cwd: path.join(ROOT, 'posts') });
    expect(spec(specs, 'posts').env).toMatchObject({ LOG_FORMAT: 'pretty', PATH: expect.stringContaining(path.join(ROOT, 'node_modules', '.bin')) });
  });

  it('when a service has not been built, then the plan says to run the build', () => {
    expect(() => plan({ root: '/nowhere' })).toThrow(/npm run build/);
  });
});
