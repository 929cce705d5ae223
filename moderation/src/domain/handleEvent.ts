import { assertNever, derivedEventId, type BusClient, type EventContext, type EventType, type KnownEvent } from '@blog/common';
import { moderate } from './moderate';

/** The events moderation acts on; the rest are ignored below. */
export const HANDLED_TYPES: readonly EventType[] = ['CommentCreated'];

/**
 * Moderation keeps no state: each CommentCreated gets a verdict. The verdict's id is derived from the
 * comment, so a redelivered CommentCreated publishes the same event again and the bus stores it once.
 */
export async function handleEvent(bus: BusClient, event: KnownEvent, context?: EventContext): Promise<void> {
  switch (event.type) {
    case 'CommentCreated': {
      const status = moderate(event.data.content);
      await bus.publish(
        { type: 'CommentModerated', data: { ...event.data, status } },
        derivedEventId('CommentModerated', event.data.id),
        context?.requestId,
      );
      return;
    }
    case 'PostCreated':
    case 'CommentModerated':
    case 'CommentUpdated':
      return;
    default:
      assertNever(event);
  }
}
