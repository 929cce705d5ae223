import { derivedEventId } from '@blog/contracts';
import { idSealer } from '../src';

describe('idSealer', () => {
  const publicId = derivedEventId('CommentModerated', 'comment-1');

  it('when two replicas share a secret, then they seal a derived id alike, as a UUID, and nothing without the secret gives it', () => {
    const sealed = idSealer('moderation-secret-0123456789')(publicId);

    expect(idSealer('moderation-secret-0123456789')(publicId)).toBe(sealed);
    expect(sealed).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(sealed).not.toBe(publicId);
    expect(idSealer('another-services-secret-01234')(publicId)).not.toBe(sealed);
    expect(idSealer('moderation-secret-0123456789')(derivedEventId('CommentModerated', 'comment-2'))).not.toBe(sealed);
  });

  it('when there is no secret (no credentials), then ids stay as derived', () => {
    expect(idSealer(undefined)(publicId)).toBe(publicId);
  });
});
