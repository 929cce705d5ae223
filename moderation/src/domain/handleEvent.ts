import { type FinalCommentStatus, EVENTS_HANDLED, assertNever, derivedEventId, type EventHandlers, type FollowUp, type KnownEvent } from '@blog/contracts';

const FORBIDDEN_WORD = /orange/i;

/** The moderation rule, kept pure and in one place so it can be replaced. */
export function moderate(content: string): FinalCommentStatus {
  return FORBIDDEN_WORD.test(content) ? 'rejected' : 'approved';
}

/**
 * Each CommentCreated gets a verdict. The verdict's id is derived from the comment, so a redelivered
 * CommentCreated yields the same event again and it is stored once.
 */
export function moderateComment(event: KnownEvent): FollowUp[] {
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

/** Moderation keeps no state (so it never replays the log): it only reacts to new comments. */
export const moderationEventHandlers: EventHandlers = { ...EVENTS_HANDLED.moderation, react: moderateComment };
