/** @jest-environment jsdom */
import './setup';
import { act, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { App } from '../src/App';
import { ApiError } from '../src/api';
import type { RetryPolicy } from '../src/retryingWrite';
import { FakeApi, FakeEventSource, factory } from './fakes';

/** Writes give up after 300 ms here, not a minute, so a test of an outage that outlasts them is quick. */
const QUICK_RETRY: RetryPolicy = { giveUpAfterMs: 300, firstWaitMs: 10, maxWaitMs: 40 };

function renderApp(api: FakeApi, { live = true, pollMs = 25, writeRetry = QUICK_RETRY }: { live?: boolean; pollMs?: number; writeRetry?: RetryPolicy } = {}) {
  const user = userEvent.setup();
  const view = render(
    <App deps={{ api, pollMs, unknownPostRetryMs: 1_000, writeRetry, eventSource: live ? (url) => new FakeEventSource(url) : undefined }} />,
  );
  return { user, ...view };
}

const cardOf = (title: string) => screen.getByRole('article', { name: title });
const unavailable = (service: string) => new ApiError('unavailable', 503, `the ${service} service is unavailable; nothing was sent to it, so try again`);

beforeEach(() => {
  FakeEventSource.instances = [];
});

describe('the page before and without posts', () => {
  it('when the view is still loading, then it says so instead of "no posts"', async () => {
    const api = new FakeApi();
    const release = api.hold('listPosts');
    renderApp(api);
    expect(screen.getByText('Loading posts…')).toBeInTheDocument();
    await act(async () => release());
    expect(await screen.findByText('No posts yet. Write the first one above.')).toBeInTheDocument();
  });

  it('when a post has no comments, then its card says so', async () => {
    renderApp(new FakeApi([factory.post({ title: 'Quiet post' })]));
    expect(await within(await screen.findByRole('article', { name: 'Quiet post' })).findByText('No comments yet. Be the first.')).toBeInTheDocument();
  });
});

describe('posts and comments as cards', () => {
  it.each(['constructor', 'toString', 'hasOwnProperty', 'valueOf'])(
    'when a post\'s id is %j, a name every plain object already has, then it is shown like any other post',
    async (id) => {
      const api = new FakeApi([
        factory.post({ id, title: 'Odd id', comments: [factory.comment({ content: 'Fine', status: 'approved' })] }),
        factory.post({ title: 'Ordinary' }),
      ]);
      renderApp(api);
      const card = await screen.findByRole('article', { name: 'Odd id' });
      expect(within(card).getByText('Fine')).toBeInTheDocument();
      expect(screen.getByRole('article', { name: 'Ordinary' })).toBeInTheDocument();
    },
  );

  it('when posts have comments in each state, then each state is shown in words', async () => {
    const api = new FakeApi([
      factory.post({
        title: 'Moderated',
        comments: [
          factory.comment({ content: 'Lovely', status: 'approved' }),
          factory.comment({ content: 'Not yet seen', status: 'pending' }),
          factory.comment({ content: 'I like oranges', status: 'rejected' }),
        ],
      }),
    ]);
    renderApp(api);
    const card = await screen.findByRole('article', { name: 'Moderated' });
    const items = within(card).getAllByRole('listitem');
    expect(items.map((item) => item.textContent)).toEqual(['Lovely', 'Awaiting moderation', 'Rejected by moderation']);
    expect(within(card).getByText('3 comments')).toBeInTheDocument();
    // Nobody else sees a comment's text before moderation passed it, nor a rejected one's.
    expect(card).not.toHaveTextContent('Not yet seen');
    expect(card).not.toHaveTextContent('oranges');
  });

  it('when there are several posts, then the newest is first', async () => {
    renderApp(new FakeApi([factory.post({ title: 'Older' }), factory.post({ title: 'Newer' })]));
    await screen.findByRole('article', { name: 'Older' });
    expect(screen.getAllByRole('heading', { level: 2 }).map((heading) => heading.textContent)).toEqual(['Newer', 'Older']);
  });

  it('when a title or comment holds HTML, then it is shown as text and nothing of it runs', async () => {
    const script = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">';
    const { container } = renderApp(
      new FakeApi([factory.post({ title: `<b>${script}</b>`, comments: [factory.comment({ content: script })] })]),
    );
    expect(await screen.findByText(`<b>${script}</b>`)).toBeInTheDocument();
    expect(screen.getByText(script)).toBeInTheDocument();
    expect(container.querySelector('img, script, b')).toBeNull();
    expect((window as { __pwned?: unknown }).__pwned).toBeUndefined();
  });
});

describe('creating a post', () => {
  it('when a title is sent with Enter, then it shows at once, the button is disabled, and it stays once confirmed', async () => {
    const api = new FakeApi();
    const { user } = renderApp(api);
    await screen.findByText('No posts yet. Write the first one above.');
    const release = api.hold('createPost');
    await user.type(screen.getByLabelText('New post'), 'Hello, events{Enter}');

    expect(screen.getByRole('button', { name: 'Publishing…' })).toBeDisabled();
    const sending = screen.getByRole('article', { busy: true });
    expect(sending).toHaveTextContent('Hello, events');
    expect(sending).toHaveTextContent('Publishing…');

    await act(async () => release());
    const card = await screen.findByRole('article', { name: 'Hello, events' });
    expect(card).not.toHaveAttribute('aria-busy');
    expect(screen.getByLabelText('New post')).toHaveValue('');
    expect(screen.getByRole('button', { name: 'Publish' })).toBeEnabled();
    expect(screen.getAllByRole('article')).toHaveLength(1);
  });

  it('when the API refuses the title, then its message is shown next to the field and the text is kept', async () => {
    const api = new FakeApi();
    api.failNext('createPost', new ApiError('validation', 400, 'invalid post', [{ path: 'title', message: 'Too small: expected string to have >=1 characters' }]));
    const { user } = renderApp(api);
    await screen.findByText('No posts yet. Write the first one above.');
    const field = screen.getByLabelText('New post');
    await user.type(field, '   {Enter}');

    await waitFor(() => expect(field).toHaveAttribute('aria-invalid', 'true'));
    expect(field).toHaveAccessibleDescription('Too small: expected string to have >=1 characters');
    expect(field).toHaveValue('   ');
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    expect(screen.queryAllByRole('article')).toHaveLength(0);

    await user.clear(field);
    await user.type(field, 'Fixed{Enter}');
    await screen.findByRole('article', { name: 'Fixed' });
    expect(field).not.toHaveAttribute('aria-invalid');
  });

  it('when the posts service stays down longer than the page keeps trying, then a banner says nothing was saved and "Try again" sends it again with the same key', async () => {
    const api = new FakeApi();
    api.failNext('createPost', unavailable('posts'), 1_000);
    const { user } = renderApp(api);
    await screen.findByText('No posts yet. Write the first one above.');
    await user.type(screen.getByLabelText('New post'), 'Down but not out{Enter}');

    const banner = await screen.findByRole('alert');
    expect(banner).toHaveTextContent('Your post was not saved: the posts service is unavailable');
    expect(screen.queryAllByRole('article')).toHaveLength(0);
    expect(screen.getByLabelText('New post')).toHaveValue('Down but not out');

    const attempts = api.calls.createPost;
    expect(attempts).toBeGreaterThan(2);
    api.recover('createPost');
    await user.click(within(banner).getByRole('button', { name: 'Try again' }));
    await screen.findByRole('article', { name: 'Down but not out' });
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    expect(screen.getByLabelText('New post')).toHaveValue('');
    expect(api.calls.createPost).toBe(attempts + 1);
    expect(new Set(api.keys).size).toBe(1);
    expect(api.keys[0]).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('adding a comment', () => {
  it('when a comment is sent, then it shows at once as sending, then awaiting moderation with its text, then its verdict live', async () => {
    const api = new FakeApi([factory.post({ id: 'p1', title: 'Open thread' })]);
    const { user } = renderApp(api);
    const card = await screen.findByRole('article', { name: 'Open thread' });
    await act(async () => FakeEventSource.latest().open());
    const release = api.hold('createComment');
    await user.type(within(card).getByLabelText(/Add a comment/), 'First!{Enter}');

    expect(within(card).getByRole('button', { name: 'Sending…' })).toBeDisabled();
    expect(within(card).getByRole('listitem')).toHaveTextContent('First!Sending…');

    await act(async () => release());
    await waitFor(() => expect(within(card).getByRole('listitem')).toHaveTextContent('First!Awaiting moderation'));
    expect(within(card).getByLabelText(/Add a comment/)).toHaveValue('');

    const approved = api.moderate(api.posts[0]!.comments[0]!.id, 'approved');
    act(() => FakeEventSource.latest().emit('comment', { kind: 'comment', postId: 'p1', comment: approved }));
    expect(within(card).getByRole('listitem')).toHaveTextContent(/^First!$/);
  });

  it('when more is typed while a comment is being sent, then that text is kept once the first is saved', async () => {
    const api = new FakeApi([factory.post({ title: 'Busy' })]);
    const { user } = renderApp(api);
    const card = await screen.findByRole('article', { name: 'Busy' });
    const field = within(card).getByLabelText(/Add a comment/);
    const release = api.hold('createComment');
    await user.type(field, 'One{Enter}');
    await user.clear(field);
    await user.type(field, 'Two{Enter}');
    expect(api.calls.createComment).toBe(1);
    await act(async () => release());
    await waitFor(() => expect(within(card).getByRole('listitem')).toHaveTextContent('OneAwaiting moderation'));
    expect(field).toHaveValue('Two');
  });

  it('when the comments service stays down, then the banner offers to try again, and the retry recovers', async () => {
    const api = new FakeApi([factory.post({ title: 'Thread' })]);
    api.failNext('createComment', unavailable('comments'), 1_000);
    const { user } = renderApp(api);
    const card = await screen.findByRole('article', { name: 'Thread' });
    await user.type(within(card).getByLabelText(/Add a comment/), 'Still here?{Enter}');

    const banner = await screen.findByRole('alert');
    expect(banner).toHaveTextContent('Your comment was not saved: the comments service is unavailable');
    expect(within(card).queryByRole('listitem')).not.toBeInTheDocument();
    expect(within(card).getByLabelText(/Add a comment/)).toHaveValue('Still here?');
    expect(within(card).getByRole('button', { name: 'Comment' })).toBeEnabled();

    api.recover('createComment');
    await user.click(within(banner).getByRole('button', { name: 'Try again' }));
    await waitFor(() => expect(within(card).getByRole('listitem')).toHaveTextContent('Still here?Awaiting moderation'));
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('when the service never answers for longer than the page keeps trying (504), then the banner says it may not have been saved', async () => {
    const api = new FakeApi([factory.post({ title: 'Slow' })]);
    api.failNext('createComment', new ApiError('unknown-outcome', 504, 'the comments service did not answer within 15 s'), 1_000);
    const { user } = renderApp(api);
    const card = await screen.findByRole('article', { name: 'Slow' });
    await user.type(within(card).getByLabelText(/Add a comment/), 'Anyone?{Enter}');
    expect(await screen.findByRole('alert')).toHaveTextContent('Your comment may not have been saved');
  });

  it('when the comments service is restarting, then the comment says what it waits for, keeps its text, and lands once when the service is back', async () => {
    const api = new FakeApi([factory.post({ title: 'Restarting' })]);
    const restarting = new ApiError('unavailable', 503, 'the comments service is unavailable; nothing was sent to it, so try again', [], {
      name: 'comments',
      state: 'restarting after a crash',
    });
    api.failNext('createComment', restarting, 3);
    const { user } = renderApp(api, { writeRetry: { giveUpAfterMs: 5_000, firstWaitMs: 150, maxWaitMs: 150 } });
    const card = await screen.findByRole('article', { name: 'Restarting' });
    const field = within(card).getByLabelText(/Add a comment/);
    await user.type(field, 'Patience{Enter}');

    expect(await within(card).findByTestId('draft-waiting')).toHaveTextContent('Waiting for the comments service (restarting after a crash); trying again in 1 s.');
    expect(field).toHaveValue('Patience');
    expect(within(card).getByRole('button', { name: 'Sending…' })).toBeDisabled();

    await waitFor(() => expect(within(card).getByRole('listitem')).toHaveTextContent('PatienceAwaiting moderation'));
    expect(within(card).getAllByRole('listitem')).toHaveLength(1);
    expect(api.posts[0]!.comments).toHaveLength(1);
    expect(api.calls.createComment).toBe(4);
    expect(new Set(api.keys).size).toBe(1);
    expect(field).toHaveValue('');
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('when a comment was stored but its answer was lost (504), then the retry with the same key gets it and it shows once', async () => {
    const api = new FakeApi([factory.post({ title: 'Lost answer' })]);
    api.failNext('createComment', new ApiError('unknown-outcome', 504, 'the comments service did not answer within 15 s'), 1, { stored: true });
    const { user } = renderApp(api);
    const card = await screen.findByRole('article', { name: 'Lost answer' });

    await user.type(within(card).getByLabelText(/Add a comment/), 'Only once{Enter}');

    await waitFor(() => expect(within(card).getByRole('listitem')).toHaveTextContent('Only onceAwaiting moderation'));
    expect(api.calls.createComment).toBe(2);
    expect(api.posts[0]!.comments).toHaveLength(1);
    expect(within(card).getAllByRole('listitem')).toHaveLength(1);
  });

  it('when one comment is saved and another sent, then each has a key of its own', async () => {
    const api = new FakeApi([factory.post({ title: 'Two keys' })]);
    const { user } = renderApp(api);
    const card = await screen.findByRole('article', { name: 'Two keys' });
    const field = within(card).getByLabelText(/Add a comment/);
    await user.type(field, 'Same words{Enter}');
    await waitFor(() => expect(field).toHaveValue(''));
    await user.type(field, 'Same words{Enter}');
    await waitFor(() => expect(within(card).getAllByRole('listitem')).toHaveLength(2));
    expect(new Set(api.keys).size).toBe(2);
  });

  it('when the comments service has not heard of a new post yet (404), then the comment is retried until it has', async () => {
    const api = new FakeApi([factory.post({ title: 'Brand new' })]);
    api.failNext('createComment', new ApiError('not-found', 404, 'unknown post'), 2);
    const { user } = renderApp(api);
    const card = await screen.findByRole('article', { name: 'Brand new' });
    await user.type(within(card).getByLabelText(/Add a comment/), 'Quick{Enter}');
    await waitFor(() => expect(within(card).getByRole('listitem')).toHaveTextContent('QuickAwaiting moderation'));
    expect(api.calls.createComment).toBe(3);
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('when the API refuses the content, then the error is next to that post\'s field only', async () => {
    const api = new FakeApi([factory.post({ title: 'One' }), factory.post({ title: 'Two' })]);
    api.failNext('createComment', new ApiError('validation', 400, 'invalid comment', [{ path: 'content', message: 'Too big: at most 2000 characters' }]));
    const { user } = renderApp(api);
    const one = await screen.findByRole('article', { name: 'One' });
    await user.type(within(one).getByLabelText(/Add a comment/), 'x{Enter}');
    // The description is the error, then the character count.
    await waitFor(() => expect(within(one).getByLabelText(/Add a comment/)).toHaveAccessibleDescription(/^Too big: at most 2000 characters 1 of 2000 characters$/));
    expect(within(cardOf('Two')).getByLabelText(/Add a comment/)).not.toHaveAttribute('aria-invalid');
  });
});

describe('keeping up to date', () => {
  it('when the stream announces a post and verdicts, then the page shows them without a reload', async () => {
    const api = new FakeApi();
    renderApp(api);
    await screen.findByText('No posts yet. Write the first one above.');
    const stream = FakeEventSource.latest();
    await act(async () => stream.open());
    expect(screen.getByRole('status')).toHaveTextContent('Live');

    act(() => stream.emit('post', { kind: 'post', post: { id: 'p9', title: 'From elsewhere' } }));
    const card = screen.getByRole('article', { name: 'From elsewhere' });
    act(() => stream.emit('comment', { kind: 'comment', postId: 'p9', comment: { id: 'c1', content: 'orange', status: 'pending' } }));
    expect(within(card).getByRole('listitem')).toHaveTextContent('Awaiting moderation');
    act(() => stream.emit('comment', { kind: 'comment', postId: 'p9', comment: { id: 'c1', content: 'orange', status: 'rejected' } }));
    expect(within(card).getByRole('listitem')).toHaveTextContent('Rejected by moderation');
    // A late or repeated "pending" never undoes a verdict.
    act(() => stream.emit('comment', { kind: 'comment', postId: 'p9', comment: { id: 'c1', content: 'orange', status: 'pending' } }));
    expect(within(card).getByRole('listitem')).toHaveTextContent('Rejected by moderation');
  });

  it('when the stream is refused, then the page polls, says it is reconnecting, and goes live again when the stream is back', async () => {
    const api = new FakeApi();
    renderApp(api, { pollMs: 20 });
    await screen.findByText('No posts yet. Write the first one above.');
    const first = FakeEventSource.latest();
    act(() => first.fail({ closed: true }));
    expect(screen.getByRole('status')).toHaveTextContent('Reconnecting…');

    api.posts.push(factory.post({ title: 'Seen by polling' }));
    await screen.findByRole('article', { name: 'Seen by polling' });

    // The page opens a new stream by itself after a pause.
    await waitFor(() => expect(FakeEventSource.instances.length).toBeGreaterThan(1), { timeout: 3_000 });
    await act(async () => FakeEventSource.latest().open());
    expect(screen.getByRole('status')).toHaveTextContent('Live');
    expect(first.closed).toBe(true);
  });

  it('when the browser has no EventSource, then the page polls', async () => {
    const api = new FakeApi();
    renderApp(api, { live: false, pollMs: 20 });
    await screen.findByText('No posts yet. Write the first one above.');
    api.posts.push(factory.post({ title: 'Polled in' }));
    await screen.findByRole('article', { name: 'Polled in' });
    expect(api.calls.listPosts).toBeGreaterThanOrEqual(2);
  });

  it('when the view cannot be loaded, then a banner says so and the page recovers by itself', async () => {
    const api = new FakeApi([factory.post({ title: 'Eventually' })]);
    api.failNext('listPosts', unavailable('query'), 2);
    renderApp(api, { live: false, pollMs: 20 });
    expect(await screen.findByRole('alert')).toHaveTextContent('Cannot load the posts: the query service is unavailable');
    expect(screen.getByText('Loading posts…')).toBeInTheDocument();
    await screen.findByRole('article', { name: 'Eventually' });
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });
});

describe('the comment form\'s limit', () => {
  it('when a comment is typed, then the form counts its characters against the limit', async () => {
    const { user } = renderApp(new FakeApi([factory.post({ title: 'Counted' })]));
    const card = await screen.findByRole('article', { name: 'Counted' });
    const field = within(card).getByLabelText(/Add a comment/);
    expect(within(card).getByTestId('char-count')).toHaveTextContent('0 / 2000');
    await user.type(field, '  Hello  ');
    // Counted as the API counts it: trimmed.
    expect(within(card).getByTestId('char-count')).toHaveTextContent('5 / 2000');
    expect(field).toHaveAccessibleDescription('5 of 2000 characters');
  });

  it('when the comment is over the limit, then it is refused before it is sent, and the error clears once the field is edited', async () => {
    const api = new FakeApi([factory.post({ title: 'Long' })]);
    const { user } = renderApp(api);
    const card = await screen.findByRole('article', { name: 'Long' });
    const field = within(card).getByLabelText(/Add a comment/);
    await user.click(field);
    await user.paste('x'.repeat(2003));
    const count = within(card).getByTestId('char-count');
    expect(count).toHaveTextContent('2003 / 2000');
    expect(count).toHaveClass('is-over');
    expect(field).toHaveAttribute('aria-invalid', 'true');

    await user.keyboard('{Enter}');
    expect(field).toHaveAccessibleDescription(/^Too long: at most 2000 characters, and this has 2003\./);
    expect(api.calls.createComment).toBe(0);

    await user.keyboard('{Backspace}{Backspace}{Backspace}');
    expect(field).toHaveAccessibleDescription('2000 of 2000 characters');
    expect(field).not.toHaveAttribute('aria-invalid');
    await user.keyboard('{Enter}');
    await waitFor(() => expect(api.calls.createComment).toBe(1));
  });

  it('when the server refuses a comment, then its error clears as soon as the field is edited', async () => {
    const api = new FakeApi([factory.post({ title: 'Refused' })]);
    api.failNext('createComment', new ApiError('validation', 400, 'invalid comment', [{ path: 'content', message: 'content must contain a visible character' }]));
    const { user } = renderApp(api);
    const card = await screen.findByRole('article', { name: 'Refused' });
    const field = within(card).getByLabelText(/Add a comment/);
    await user.type(field, '\u200b{Enter}');
    await waitFor(() => expect(field).toHaveAttribute('aria-invalid', 'true'));
    expect(within(card).getByText('content must contain a visible character')).toBeInTheDocument();

    await user.type(field, 'a');
    expect(field).not.toHaveAttribute('aria-invalid');
    expect(within(card).queryByText('content must contain a visible character')).not.toBeInTheDocument();
  });
});

describe('keyboard and labels', () => {
  it('when tabbing from the top, then focus goes through the fields and buttons in reading order', async () => {
    const { user } = renderApp(new FakeApi([factory.post({ title: 'Tab target' })]));
    const card = await screen.findByRole('article', { name: 'Tab target' });
    await user.tab();
    expect(screen.getByRole('link', { name: 'Watch the events flow →' })).toHaveFocus();
    await user.tab();
    expect(screen.getByLabelText('New post')).toHaveFocus();
    await user.tab();
    expect(screen.getByRole('button', { name: 'Publish' })).toHaveFocus();
    await user.tab();
    expect(within(card).getByRole('textbox', { name: 'Add a comment to “Tab target”' })).toHaveFocus();
    await user.tab();
    expect(within(card).getByRole('button', { name: 'Comment' })).toHaveFocus();
  });

  it('when the banner shows, then it can be dismissed with the keyboard', async () => {
    const api = new FakeApi();
    api.failNext('createPost', unavailable('posts'), 1_000);
    const { user } = renderApp(api);
    await screen.findByText('No posts yet. Write the first one above.');
    await user.type(screen.getByLabelText('New post'), 'x{Enter}');
    const banner = await screen.findByRole('alert');
    within(banner).getByRole('button', { name: 'Dismiss' }).focus();
    await user.keyboard('{Enter}');
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });
});
