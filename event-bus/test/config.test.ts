import { loadConfig } from '../src/config';

describe('the bus configuration', () => {
  it('when SUBSCRIBERS is not set, then every service is subscribed on its default port, by name', () => {
    expect(loadConfig({}).SUBSCRIBERS).toEqual([
      { name: 'posts', url: 'http://localhost:4000/events' },
      { name: 'comments', url: 'http://localhost:4001/events' },
      { name: 'moderation', url: 'http://localhost:4003/events' },
      { name: 'query', url: 'http://localhost:4002/events' },
    ]);
  });
});
