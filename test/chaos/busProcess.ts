import { ServiceProcess, freePort } from '../support/localSystem';

/** The bus alone, as a real process, with its log in `dataDir`. */
export async function busProcess(dataDir: string, env: NodeJS.ProcessEnv = {}): Promise<ServiceProcess> {
  return new ServiceProcess('event-bus', await freePort(), {
    LOG_LEVEL: 'info',
    DATA_DIR: dataDir,
    SUBSCRIBERS: 'none',
    RETRY_BASE_MS: '20',
    RETRY_MAX_MS: '200',
    ...env,
  });
}

let counter = 0;

/** Publishes one PostCreated; answers the status and body. */
export async function publishPost(busUrl: string, title = `post ${(counter += 1)}`) {
  const response = await fetch(`${busUrl}/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'PostCreated', data: { id: `p-${counter}-${Date.now()}`, title } }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

export async function readLog(busUrl: string): Promise<{ seq: number; id: string; data: { title: string } }[]> {
  const response = await fetch(`${busUrl}/events`);
  return (await response.json()) as { seq: number; id: string; data: { title: string } }[];
}
