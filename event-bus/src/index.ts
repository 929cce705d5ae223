import { Lifecycle, createLogger, runService } from '@blog/service-kit';
import { serveEmbeddedBus } from './bus';
import { loadConfig, type Config } from './config';
import { createGateway } from './gateway/natsGateway';

const config = loadConfig();
const logger = createLogger('event-bus', config.LOG_LEVEL, config.LOG_FORMAT);
const lifecycle = new Lifecycle();

/** NATS JetStream keeps the events: this process only translates HTTP, so it is ready as soon as it listens. */
function runGateway(config: Config): void {
  const gateway = createGateway(config, logger, lifecycle);
  runService({ name: 'event-bus', app: gateway.app, port: config.PORT, host: config.HOST, lifecycle, logger, onShutdown: () => gateway.close() });
}

if (config.NATS_URL.length > 0) runGateway(config);
else serveEmbeddedBus(config, logger, lifecycle);
