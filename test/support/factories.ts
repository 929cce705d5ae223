import { randomUUID } from 'node:crypto';
import type { CommentCreated, CommentStatus, KnownEvent, PostCreated } from '@blog/contracts';

const unique = () => randomUUID().slice(0, 8);

export const aTitle = () => `A post ${unique()}`;
export const aComment = () => `A kind comment ${unique()}`;
export const anOrangeComment = () => `I prefer Orange juice ${unique()}`;

export function postCreated(overrides: Partial<{ id: string; title: string }> = {}): PostCreated {
  return { type: 'PostCreated', data: { id: randomUUID(), title: aTitle(), ...overrides } };
}

export function commentCreated(postId: string, overrides: Partial<{ id: string; content: string }> = {}): CommentCreated {
  return {
    type: 'CommentCreated',
    data: { id: randomUUID(), postId, content: aComment(), status: 'pending', ...overrides },
  };
}

export function commentVerdict(
  type: 'CommentModerated' | 'CommentUpdated',
  comment: { id: string; postId: string; content: string },
  status: CommentStatus,
): KnownEvent {
  return { type, data: { ...comment, status } };
}

/** Wraps events the way the bus delivers them: CloudEvents envelopes with consecutive seq numbers. */
export function delivered(events: KnownEvent[], firstSeq = 1) {
  return events.map((event, index) => ({
    specversion: '1.0',
    id: randomUUID(),
    source: '/test',
    type: event.type,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data: event.data,
    seq: firstSeq + index,
  }));
}
