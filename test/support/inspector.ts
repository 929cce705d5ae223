import { z } from 'zod';

/**
 * A client of the DevTools protocol that Node speaks when started with `--inspect`: requests to the
 * process, and to each of its worker threads through the NodeWorker domain (Node has no flat sessions,
 * so a worker's messages travel wrapped in the parent's).
 */
export interface ProtocolTarget {
  send(method: string, params?: object): Promise<unknown>;
}

const answer = z.object({ id: z.number(), result: z.unknown().optional(), error: z.object({ message: z.string() }).optional() });
const notice = z.object({ method: z.string(), params: z.record(z.string(), z.unknown()).optional() });
const workerAttached = z.object({ sessionId: z.string() });
const workerMessage = z.object({ sessionId: z.string(), message: z.string() });

/** Matches answers to requests by id; shared by the process and each worker, which number their own. */
class Requests {
  private next = 0;
  private readonly waiting = new Map<number, { resolve: (result: unknown) => void; reject: (error: Error) => void }>();

  open(): { id: number; settled: Promise<unknown> } {
    const id = ++this.next;
    return { id, settled: new Promise((resolve, reject) => this.waiting.set(id, { resolve, reject })) };
  }

  settle(message: unknown): void {
    const parsed = answer.safeParse(message);
    if (!parsed.success) return;
    const request = this.waiting.get(parsed.data.id);
    this.waiting.delete(parsed.data.id);
    if (parsed.data.error) request?.reject(new Error(parsed.data.error.message));
    else request?.resolve(parsed.data.result);
  }
}

class WorkerTarget implements ProtocolTarget {
  readonly requests = new Requests();

  constructor(
    private readonly parent: Inspector,
    readonly sessionId: string,
  ) {}

  async send(method: string, params: object = {}): Promise<unknown> {
    const { id, settled } = this.requests.open();
    await this.parent.send('NodeWorker.sendMessageToWorker', { sessionId: this.sessionId, message: JSON.stringify({ id, method, params }) });
    return settled;
  }
}

export class Inspector implements ProtocolTarget {
  private readonly requests = new Requests();
  /** The process's worker threads, once `attachWorkers` has asked for them. */
  readonly workers: WorkerTarget[] = [];

  private constructor(private readonly socket: WebSocket) {
    socket.addEventListener('message', (event) => this.receive(JSON.parse(String(event.data))));
  }

  static async connect(url: string): Promise<Inspector> {
    const socket = new WebSocket(url);
    await new Promise((resolve, reject) => {
      socket.addEventListener('open', resolve, { once: true });
      socket.addEventListener('error', () => reject(new Error(`could not reach the inspector at ${url}`)), { once: true });
    });
    return new Inspector(socket);
  }

  send(method: string, params: object = {}): Promise<unknown> {
    const { id, settled } = this.requests.open();
    this.socket.send(JSON.stringify({ id, method, params }));
    return settled;
  }

  /** Node announces the running workers before it answers the enable request, so they are all here after it. */
  async attachWorkers(): Promise<void> {
    await this.send('NodeWorker.enable', { waitForDebuggerOnStart: false });
  }

  close(): void {
    this.socket.close();
  }

  private receive(message: unknown): void {
    this.requests.settle(message);
    const parsed = notice.safeParse(message);
    if (!parsed.success) return;
    if (parsed.data.method === 'NodeWorker.attachedToWorker') {
      this.workers.push(new WorkerTarget(this, workerAttached.parse(parsed.data.params).sessionId));
    } else if (parsed.data.method === 'NodeWorker.receivedMessageFromWorker') {
      const { sessionId, message: inner } = workerMessage.parse(parsed.data.params);
      this.workers.find((worker) => worker.sessionId === sessionId)?.requests.settle(JSON.parse(inner));
    }
  }
}

/** The address a process started with `--inspect=127.0.0.1:0` printed for its inspector. */
export function inspectorUrl(output: string): string | undefined {
  return /Debugger listening on (ws:\/\/\S+)/.exec(output)?.[1];
}
