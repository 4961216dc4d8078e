/**
 * Characters a generated database password must not contain: it is placed in a
 * postgres:// URL unescaped, so nothing with a meaning in a URL, and no quote for the shell.
 */
export const URL_UNSAFE_CHARACTERS = ` !"#$%&'()*+,/:;<=>?@[\\]^\`{|}~`;

/**
 * The container entry point that turns the parts ECS injects (host and port as plain
 * variables, user, password and the Redis token from Secrets Manager) into the
 * `DATABASE_URL` and `REDIS_URL` that Sluice reads, then runs the image's own command
 * (`exec "$@"`), so the Dockerfile's CMD stays the one place that says how a process starts.
 * TLS on both: RDS is reached with `sslmode=no-verify` (encrypted; the RDS CA is not in
 * Node's trust store), ElastiCache with `rediss://` (its certificate is publicly trusted).
 */
export function connectionUrlsEntryPoint(options: { redis: boolean }): string[] {
  const lines = [
    'set -eu',
    'export DATABASE_URL="postgres://$DATABASE_USER:$DATABASE_PASSWORD@$DATABASE_HOST:$DATABASE_PORT/$DATABASE_NAME?sslmode=no-verify"',
    ...(options.redis ? ['export REDIS_URL="rediss://:$REDIS_AUTH_TOKEN@$REDIS_HOST:$REDIS_PORT"'] : []),
    'unset DATABASE_PASSWORD REDIS_AUTH_TOKEN',
    'exec "$@"',
  ];
  return ['/bin/sh', '-c', lines.join('\n'), 'sluice'];
}
