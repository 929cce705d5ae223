import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpClient } from './httpClient';
import { closedLoop, openLoop, type Sample } from './load';

/**
 * The fastest this machine answers one small JSON POST: a bare Node HTTP server, driven by the same
 * client and load shape as the pipeline, so the pipeline's figures have something to stand beside.
 */
export async function measureCeiling(options: { count: number; concurrency: number; rate?: number; duration: number }) {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      JSON.parse(Buffer.concat(chunks).toString());
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const client = new HttpClient(options.concurrency);
  const send = async (index: number) => client.request('POST', url, { content: `ceiling ${index}` });
  const started = performance.now();
  const samples: Sample[] = options.rate
    ? await openLoop(options.rate, options.duration, send)
    : await closedLoop(options.count, options.concurrency, send);
  const seconds = (performance.now() - started) / 1000;
  client.close();
  await new Promise((resolve) => server.close(resolve));
  return { samples, seconds };
}
