import Table from 'cli-table3';
import { readCommandLine } from '@blog/service-kit';

const USAGE = `usage: npm run status -- [--bus-url URL] [--json]
  the bus's view of its subscribers (GET /subscribers), as a table
  --bus-url  the bus to ask (default: EVENT_BUS_URL, or http://localhost:4005)
  --json     the bus's answer as it is
environment: BUS_TOKEN, sent to a bus that asks for a credential`;

/** `npm run status`: the bus's view of its subscribers, as a table (or JSON with --json). */
const values = readCommandLine(USAGE, {
  options: {
    'bus-url': { type: 'string', default: process.env.EVENT_BUS_URL ?? 'http://localhost:4005' },
    json: { type: 'boolean', default: false },
  },
});

interface SubscriberStatus {
  url: string;
  position: number;
  lag: number;
  deliveries: number;
  failures: number;
  deadLettered: number;
  lastError: string | null;
  lastSuccessAt: string | null;
}

const ago = (iso: string | null) => (iso ? `${((Date.now() - Date.parse(iso)) / 1000).toFixed(1)} s ago` : 'never');

async function main(): Promise<number> {
  const url = `${values['bus-url']}/subscribers`;
  const token = process.env.BUS_TOKEN;
  let response: Response;
  try {
    response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  } catch {
    console.error(`cannot reach the bus at ${values['bus-url']}: is it running (npm start)? Set --bus-url or EVENT_BUS_URL.`);
    return 1;
  }
  if (response.status !== 200) {
    console.error(`${url} answered ${response.status}${response.status === 401 ? ': set BUS_TOKEN' : ''}`);
    return 1;
  }
  const subscribers = (await response.json()) as SubscriberStatus[];
  if (values.json) {
    console.log(JSON.stringify(subscribers, null, 2));
    return 0;
  }
  const table = new Table({
    head: ['subscriber', 'position', 'lag', 'deliveries', 'failures', 'dead letters', 'last success', 'last error'],
    style: { head: [], border: [] },
  });
  for (const s of subscribers) {
    table.push([s.url, s.position, s.lag, s.deliveries, s.failures, s.deadLettered, ago(s.lastSuccessAt), s.lastError ?? '']);
  }
  console.log(subscribers.length === 0 ? 'the bus has no subscribers' : table.toString());
  return 0;
}

main().then((code) => process.exit(code));
