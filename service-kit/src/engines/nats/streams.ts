import { nanos } from '@nats-io/nats-core';
import { DiscardPolicy, JetStreamApiCodes, JetStreamApiError, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { MAX_EVENT_BYTES } from '@blog/contracts';
import type { NatsOptions } from './connection';
import { isPermissionViolation } from './publisher';
import { DEAD_LETTER_STREAM, DEAD_LETTER_SUBJECTS, EVENTS_STREAM, EVENTS_SUBJECTS, RETRY_SUBJECTS } from './names';

/** The blog's two streams: the events, and the parked (and retried) events. */
function streamConfigs({ replicas, dedupeWindowMs }: NatsOptions): (Partial<StreamConfig> & { name: string })[] {
  const shared = {
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    num_replicas: replicas,
    duplicate_window: nanos(dedupeWindowMs),
  };
  return [
    // The log: nothing expires, every message is read by many consumers. The server itself refuses an
    // event larger than the blog allows (the bus answers 413 first), and a dead letter is one plus its story.
    { name: EVENTS_STREAM, subjects: [EVENTS_SUBJECTS], allow_direct: true, max_msg_size: MAX_EVENT_BYTES, ...shared },
    { name: DEAD_LETTER_STREAM, subjects: [DEAD_LETTER_SUBJECTS, RETRY_SUBJECTS], max_msg_size: 2 * MAX_EVENT_BYTES, ...shared },
  ];
}

/**
 * Creates the streams when they are missing. Every process does this at connect, so whichever starts
 * first makes them; a replica count or dedupe window changed in the configuration is applied to a
 * stream that exists already.
 */
export async function ensureStreams(jsm: JetStreamManager, options: NatsOptions): Promise<void> {
  for (const config of streamConfigs(options)) {
    try {
      const info = await jsm.streams.info(config.name);
      const sameSubjects = JSON.stringify(info.config.subjects) === JSON.stringify(config.subjects);
      const changed = info.config.num_replicas !== config.num_replicas || info.config.duplicate_window !== config.duplicate_window || info.config.max_msg_size !== config.max_msg_size;
      if (!sameSubjects || changed) {
        // With NATS users, only the gateway may change a stream's settings; a service goes on with them as they are.
        await jsm.streams
          .update(config.name, { subjects: config.subjects, num_replicas: config.num_replicas, duplicate_window: config.duplicate_window, max_msg_size: config.max_msg_size })
          .catch((error: unknown) => {
            if (!isPermissionViolation(error)) throw error;
          });
      }
    } catch (error) {
      if (!(error instanceof JetStreamApiError) || error.code !== JetStreamApiCodes.StreamNotFound) throw error;
      await jsm.streams.add(config);
    }
  }
}
