import type { Logger } from './logger.js';

type LogFn = (objOrMsg: unknown, msg?: string, ...rest: unknown[]) => void;

/** The pino-shaped logger Fastify expects, writing through winston. */
export interface FastifyLoggerAdapter {
  level: string;
  fatal: LogFn;
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
  trace: LogFn;
  silent: LogFn;
  child(bindings: Record<string, unknown>): FastifyLoggerAdapter;
}

const LEVELS = { fatal: 'error', error: 'error', warn: 'warn', info: 'info', debug: 'debug', trace: 'silly' } as const;

function serialize(value: unknown): Record<string, unknown> {
  if (value instanceof Error) return { err: { message: value.message, code: (value as { code?: unknown }).code, stack: value.stack } };
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = v instanceof Error ? serialize(v).err : v;
    return out;
  }
  return {};
}

/**
 * Adapts winston to Fastify's `loggerInstance`, so request logs and application logs are one
 * stream of JSON lines. Fastify's (object, message) call shape becomes winston's (message, meta).
 */
export function toFastifyLogger(logger: Logger, level = logger.level): FastifyLoggerAdapter {
  const write =
    (target: (typeof LEVELS)[keyof typeof LEVELS]): LogFn =>
    (objOrMsg, msg) => {
      if (typeof objOrMsg === 'string') logger.log(target, objOrMsg);
      else logger.log(target, msg ?? (objOrMsg instanceof Error ? objOrMsg.message : ''), serialize(objOrMsg));
    };
  return {
    level,
    fatal: write(LEVELS.fatal),
    error: write(LEVELS.error),
    warn: write(LEVELS.warn),
    info: write(LEVELS.info),
    debug: write(LEVELS.debug),
    trace: write(LEVELS.trace),
    silent: () => undefined,
    child: (bindings) => toFastifyLogger(logger.child(bindings), level),
  };
}
