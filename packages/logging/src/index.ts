export { createLogger, type Logger } from './logger.js';
export { toFastifyLogger, type FastifyLoggerAdapter } from './fastify-logger.js';
