/**
 * Places for long-lived streams (server-sent events), shared fairly: at most `total` open at once, and
 * at most `perClient` of them for one client (by its address), so one client holding every place it
 * may still leaves room for the others.
 */
export class StreamSeats {
  private readonly byClient = new Map<string, number>();
  private open = 0;

  constructor(
    readonly total: number,
    readonly perClient: number,
  ) {}

  /** Takes a place for `client`; answers why not when there is none: all taken, or this client's share. */
  take(client: string): 'taken' | 'full' | 'client full' {
    const held = this.byClient.get(client) ?? 0;
    if (held >= this.perClient) return 'client full';
    if (this.open >= this.total) return 'full';
    this.byClient.set(client, held + 1);
    this.open += 1;
    return 'taken';
  }

  give(client: string): void {
    const held = this.byClient.get(client) ?? 0;
    if (held <= 0) return;
    if (held === 1) this.byClient.delete(client);
    else this.byClient.set(client, held - 1);
    this.open -= 1;
  }

  get count(): number {
    return this.open;
  }
}

/** The address a request came from, as the seats count clients. */
export const clientOf = (socket: { remoteAddress?: string | undefined }): string => socket.remoteAddress ?? 'unknown';
