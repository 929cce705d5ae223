import { readCommandLine } from '@blog/service-kit';

const USAGE = `usage: npm run bench -- [options]

  --count N          comments to create (closed loop; default 2000)
  --concurrency N    concurrent clients (default 50)
  --rate N           instead: N comments per second, open loop, for --duration seconds
  --duration S       seconds of the open-loop run (default 10)
  --posts N          posts the comments are spread over (default 10)
  --warmup N         comments sent and settled first, not measured (default 300; 0 for none)
  --no-ceiling       skip the bare-HTTP-server ceiling run
  --replay N         instead: time a query restart over a log of N events
  --engine E         embedded (default) or nats: NATS JetStream, with a local nats-server
  --engines A,B      run the same load on each engine in turn and print them side by side
  --nats-nodes N     with nats: servers in the NATS cluster (default 1; 3 for a cluster)
  --nats-sync S      with nats: always (every write synced before its ack) or interval (nats-server's
                     default, every two minutes); default: always on one server, the cluster's setting
  --replicas N       with nats: processes of each service (default 1); the load goes round comments'
                     replicas
  --watch N          N flow-page streams (the client's /flow/api/stream) open through the run
  --watch-compare N  instead: the same load without and with N streams open, --rounds times each, in
                     ABBA order, side by side (watching must not slow the pipeline)
  --rounds N         rounds of --watch-compare (default 3)
  --json             print the figures as JSON only
  --posts-url URL --comments-url URL --query-url URL --bus-url URL
                     measure a running system instead of starting one (all four together);
                     BUS_TOKEN is sent to the bus when that system has one`;

/** The benchmark's command line, read once; --help prints USAGE. */
export function readBenchOptions() {
  return readCommandLine(USAGE, {
    options: {
      count: { type: 'string', default: '2000' },
      concurrency: { type: 'string', default: '50' },
      rate: { type: 'string' },
      duration: { type: 'string', default: '10' },
      posts: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '300' },
      'no-ceiling': { type: 'boolean', default: false },
      replay: { type: 'string' },
      json: { type: 'boolean', default: false },
      engine: { type: 'string' },
      engines: { type: 'string' },
      'nats-nodes': { type: 'string', default: '1' },
      'nats-sync': { type: 'string' },
      replicas: { type: 'string', default: '1' },
      'posts-url': { type: 'string' },
      'comments-url': { type: 'string' },
      'query-url': { type: 'string' },
      'bus-url': { type: 'string' },
      watch: { type: 'string', default: '0' },
      'watch-compare': { type: 'string' },
      rounds: { type: 'string', default: '3' },
    },
  });
}
