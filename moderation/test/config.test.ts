import { loadConfig } from '../src/config';

describe('MODERATION_DELAY_MS', () => {
  it('when unset, then moderation does not wait', () => {
    expect(loadConfig({}).MODERATION_DELAY_MS).toBe(0);
  });

  it('when set within 0..60000, then it is the wait in ms', () => {
    expect(loadConfig({ MODERATION_DELAY_MS: '2500' }).MODERATION_DELAY_MS).toBe(2500);
  });

  it.each(['-1', '60001', 'soon'])('when set to %p, then the service refuses to start and names the variable', (value) => {
    expect(() => loadConfig({ MODERATION_DELAY_MS: value })).toThrow(/MODERATION_DELAY_MS/);
  });
});
