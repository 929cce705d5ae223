import { VIEW_COMMENTS_PER_POST, entityIdSchema } from '@blog/contracts';
import { z } from 'zod';
import { AppError } from './errors';

/**
 * `GET /posts/:id/comments?before=<comment id>&limit=N`, as comments and query both answer it: only
 * `before` and `limit` are read, and anything else is ignored, as the course's list ignores it.
 */
export const commentsPageQuery = z.object({
  before: entityIdSchema.optional().catch(undefined),
  limit: z.coerce.number().int().min(1).max(VIEW_COMMENTS_PER_POST).optional().catch(undefined),
});

/** Every comment (no query), or the `limit` ones before `before`: the earlier ones a page of the view leaves out. */
export function commentsPage<T extends { id: string }>(comments: T[], { before, limit }: z.infer<typeof commentsPageQuery>, postId: string): T[] {
  if (before === undefined && limit === undefined) return comments;
  const end = before === undefined ? comments.length : comments.findIndex((comment) => comment.id === before);
  if (end === -1) throw new AppError(404, `comment ${before} not found on post ${postId}`);
  return comments.slice(Math.max(0, end - (limit ?? VIEW_COMMENTS_PER_POST)), end);
}
