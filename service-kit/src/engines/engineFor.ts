import type { EventEngine } from '@blog/contracts';
import type { BusServiceConfig } from '../config';
import { HttpEngine } from './httpEngine';

/** The event engine a service's configuration names; `source` names the service in every event it publishes. */
export function engineFor(config: BusServiceConfig, source: string): EventEngine {
  return new HttpEngine({
    baseUrl: config.EVENT_BUS_URL,
    source,
    retries: config.PUBLISH_RETRIES,
    timeoutMs: config.BUS_TIMEOUT_MS,
    token: config.BUS_TOKEN,
  });
}
