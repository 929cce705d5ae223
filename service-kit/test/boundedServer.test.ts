import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createBoundedServer } from '../src/server';

let server: Server | null = null;

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = null;
});

async function listening(limits: Parameters<typeof createBoundedServer>[1]): Promise<number> {
  server = createBoundedServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('done'));
  }, limits);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
  return (server.address() as AddressInfo).port;
}

/** Opens a socket, writes `text`, and answers what the server sent back before it closed the socket. */
function sendAndWait(port: number, text: string): Promise<{ answer: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve({ answer, closedAfterMs: Date.now() - started }));
  });
}

describe('the bounded HTTP server every service listens with', () => {
  it('when a body trickles in slower than the request timeout allows, then the server answers 408 and closes the connection', async () => {
    const port = await listening({ requestTimeoutMs: 500, headersTimeoutMs: 400, checkEveryMs: 100, maxConnections: 10, maxConnectionsPerClient: 10 });

    const { answer, closedAfterMs } = await sendAndWait(port, 'POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{');

    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(closedAfterMs).toBeLessThan(5_000);
  });

  it('when more sockets are open than allowed, then a new one is closed at once and the others are still served', async () => {
    const port = await listening({ requestTimeoutMs: 10_000, headersTimeoutMs: 5_000, checkEveryMs: 1_000, maxConnections: 2, maxConnectionsPerClient: 2 });
    const held = [net.connect(port, '127.0.0.1'), net.connect(port, '127.0.0.1')];
    await Promise.all(held.map((socket) => new Promise((resolve) => socket.once('connect', resolve))));
    await new Promise((resolve) => setTimeout(resolve, 100));

    const refused = await sendAndWait(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    held[0]!.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const served = await new Promise<string>((resolve) => {
      let text = '';
      held[0]!.on('data', (chunk) => (text += chunk.toString()));
      held[0]!.on('close', () => resolve(text));
    });
    held[1]!.destroy();

    expect(refused.answer).toBe('');
    expect(served).toMatch(/^HTTP\/1\.1 200[\s\S]*done$/);
  });
});
