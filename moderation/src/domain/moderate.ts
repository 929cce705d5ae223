import type { FinalCommentStatus } from '@blog/contracts';

const FORBIDDEN_WORD = /orange/i;

/** The moderation rule, kept pure and in one place so it can be replaced. */
export function moderate(content: string): FinalCommentStatus {
  return FORBIDDEN_WORD.test(content) ? 'rejected' : 'approved';
}
