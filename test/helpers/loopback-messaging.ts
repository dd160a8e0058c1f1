/**
 * A real internode MessagingService on 127.0.0.1 and a free port, with short reconnect and
 * handshake timings, for in-process tests of modules that talk between nodes (streaming, repair).
 */
import { MessagingService } from '../../src/messaging/messaging-service.js';
import { systemScheduler } from '../../src/runtime/system.js';
import { silentLogger } from '../../src/util/logger.js';

export function loopbackMessaging(clusterName: string, hostId: string): MessagingService {
  return new MessagingService({
    clusterName,
    hostId,
    listenHost: '127.0.0.1',
    port: 0,
    secret: '',
    maxMessageBytes: 4 * 1024 * 1024,
    queueMaxMessages: 1000,
    maxInflightRequests: 64,
    scheduler: systemScheduler,
    logger: silentLogger,
    reconnectBackoff: { initialMs: 20, maxMs: 100 },
    handshakeTimeoutMs: 500,
  });
}
