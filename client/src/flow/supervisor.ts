import { PROCESS_NAMES } from '@blog/contracts';
import { z } from 'zod';
import { UpstreamFailure, type FlowHttp, type FlowUpstream, type UpstreamAnswer } from './upstream';
import { FLOW_SERVICES, MODERATION_DELAYS_MS, type FlowEngine, type KubectlCommands, type SupervisorView } from './wire';

const processName = z.enum(PROCESS_NAMES);
/** The processes the page may stop and start; the client is the page's own server (the supervisor answers 409). */
export const CONTROLLABLE = processName.exclude(['client']);

const processView = z.object({
  name: processName,
  state: z.enum(['starting', 'ready', 'crashed', 'backing-off', 'stopping', 'stopped']),
  pid: z.number().int().nullable(),
  restarts: z.number().int().min(0),
  url: z.string(),
  lastExit: z.object({ code: z.number().int().nullable(), signal: z.string().nullable(), at: z.string() }).nullable(),
  nextStartAt: z.string().nullable(),
});

const supervisorView = z.object({
  engine: z.enum(['embedded', 'nats']),
  moderationDelayMs: z.number().int().min(0),
  processes: z.array(processView).max(50),
});

/** The local supervisor (launcher), on loopback: it runs the processes, and stops, starts and slows them. */
export class SupervisorClient {
  readonly upstream: FlowUpstream;

  constructor(
    private readonly http: FlowHttp,
    url: string,
  ) {
    this.upstream = { name: 'supervisor', url };
  }

  async processes(): Promise<SupervisorView> {
    const answer = await this.http.call(this.upstream, '/processes');
    if (answer.status !== 200) throw new UpstreamFailure(503, `the local supervisor answered ${answer.status}`, `answered ${answer.status}`);
    const parsed = supervisorView.safeParse(answer.body);
    if (!parsed.success) throw new UpstreamFailure(503, 'the local supervisor sent a list of processes the page cannot read', 'unreadable answer');
    return parsed.data;
  }

  /** Stops or starts a process; the supervisor's answer (202, 404, 409) is passed on as it is. */
  action(name: z.infer<typeof CONTROLLABLE>, action: 'stop' | 'start'): Promise<UpstreamAnswer> {
    return this.http.call(this.upstream, `/processes/${name}/${action}`, { method: 'POST', body: {} });
  }

  moderationDelay(ms: number): Promise<UpstreamAnswer> {
    return this.http.call(this.upstream, '/moderation/delay', { method: 'POST', body: { ms } });
  }
}

/** Whether a URL points at this machine's loopback: the supervisor must never be another host. */
export function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * The kubectl commands that do in a cluster what the supervisor does locally. The embedded engine
 * (infra/k8s) runs one of each and the bus as a StatefulSet; the NATS overlay (infra/scale) runs two of
 * each and the bus as a gateway Deployment.
 */
export function kubectlCommands(engine: FlowEngine): KubectlCommands {
  const scaled = engine === 'nats';
  const replicas = scaled ? 2 : 1;
  const workload = (service: (typeof FLOW_SERVICES)[number]) =>
    service === 'event-bus' ? (scaled ? 'deployment event-bus' : 'statefulset event-bus') : `deployment ${service}-depl`;
  const services = Object.fromEntries(
    FLOW_SERVICES.map((service) => [
      service,
      {
        stop: `kubectl scale ${workload(service)} --replicas=0`,
        start: `kubectl scale ${workload(service)} --replicas=${replicas}`,
        crash: `kubectl delete pod -l app=${service}`,
      },
    ]),
  ) as KubectlCommands['services'];
  const moderationDelay = MODERATION_DELAYS_MS.map((ms) => ({
    ms,
    command: `kubectl set env deployment/moderation-depl MODERATION_DELAY_MS=${ms}`,
  }));
  return { services, moderationDelay };
}
