import { assertNever, derivedEventId, type EventType, type FollowUp, type KnownEvent } from '@blog/common';
import { moderate } from './moderate';

/** The events moderation acts on; the rest are ignored below. */
export const HANDLED_TYPES: readonly EventType[] = ['CommentCreated'];

/**
 * Moderation keeps no state: each CommentCreated gets a verdict. The verdict's id is derived from the
 * comment, so a redelivered CommentCreated yields the same event again and the bus stores it once.
 */
export function handleEvent(event: KnownEvent): FollowUp[] {
  switch (event.type) {
    case 'CommentCreated': {
      const status = moderate(event.data.content);
      return [{ event: { type: 'CommentModerated', data: { ...event.data, status } }, id: derivedEventId('CommentModerated', event.data.id) }];
    }
    case 'PostCreated':
    case 'CommentModerated':
    case 'CommentUpdated':
      return [];
    default:
      return assertNever(event);
  }
}
