/** One thing handed to a TurnBatch, with the promise its caller waits on. */
export interface Waiting<Item, Answer> {
  item: Item;
  resolve: (answer: Answer) => void;
  reject: (error: unknown) => void;
}

/**
 * Gathers what is added during one turn of the event loop and hands it on together at the next
 * (setImmediate): the publishes of one turn share one request to the bus, or one flush of the NATS
 * connection, instead of one each. Every caller still gets its own answer.
 */
export class TurnBatch<Item, Answer> {
  private waiting: Waiting<Item, Answer>[] = [];

  constructor(private readonly send: (batch: Waiting<Item, Answer>[]) => void) {}

  add(item: Item): Promise<Answer> {
    return new Promise((resolve, reject) => {
      // The first of a turn schedules the hand-over; the rest join it.
      if (this.waiting.push({ item, resolve, reject }) === 1) setImmediate(() => this.send(this.waiting.splice(0)));
    });
  }
}
