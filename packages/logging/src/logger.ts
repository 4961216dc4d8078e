import winston from 'winston';

export type Logger = winston.Logger;

/** Creates the one logger: winston, one JSON object per line on stdout. */
export function createLogger(options: { level: string; service: string; silent?: boolean }): Logger {
  return winston.createLogger({
    level: options.level,
    silent: options.silent ?? false,
    defaultMeta: { service: options.service },
    format: winston.format.combine(
      winston.format.timestamp(),
      winston.format.errors({ stack: true }),
      winston.format.json(),
    ),
    transports: [new winston.transports.Console()],
  });
}
