/** Structured logging (pino). Library code logs through a `Logger` it is given. */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({ level: options.level ?? 'info', ...(options.name ? { name: options.name } : {}) });
}

/** A logger that drops everything: the default for tests and embedded use. */
export const silentLogger: Logger = pino({ level: 'silent' });
