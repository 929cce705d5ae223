import { parseArgs } from 'node:util';

/**
 * `npm start` runs this beside the services: it waits for each one's /readyz, prints one clear line
 * per service as it becomes ready, then the URLs to open. Arguments: name=url pairs.
 */
const { positionals } = parseArgs({ allowPositionals: true });
const services = positionals.map((pair) => {
  const [name, url] = pair.split('=');
  if (!name || !url) throw new Error(`expected name=url, got "${pair}"`);
  return { name, url };
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function isReady(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/readyz`)).status === 200;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const waiting = new Set(services.map((s) => s.name));
  const started = Date.now();
  while (waiting.size > 0) {
    for (const service of services.filter((s) => waiting.has(s.name))) {
      if (await isReady(service.url)) {
        waiting.delete(service.name);
        console.log(`✓ ${service.name.padEnd(10)} ready at ${service.url}`);
      }
    }
    await sleep(250);
  }
  const url = (name: string) => services.find((s) => s.name === name)?.url;
  console.log(`\nAll ${services.length} services ready in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  // The engine the services were started on: npm run start:nats sets NATS_URL for all of them.
  const nats = process.env.NATS_URL;
  console.log(`  Event engine:      ${nats ? `NATS JetStream at ${nats} (the bus is its HTTP gateway)` : 'the embedded bus (its log in event-bus/data/)'}`);
  if (url('client')) console.log(`  Open the app:      ${url('client')}`);
  if (url('query')) console.log(`  Read the view:     curl ${url('query')}/posts`);
  if (url('event-bus')) console.log(`  Bus subscribers:   npm run status`);
  console.log('  Stop everything:   Ctrl+C\n');
}

void main();
