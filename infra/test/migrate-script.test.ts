import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

// infra/migrate.sh runs the migration task from a deploy's outputs and exits with its exit
// code. Here with a stand-in `aws` on the PATH that records its calls and plays ECS.

const run = promisify(execFile);
const script = path.resolve(import.meta.dirname, '../migrate.sh');
const outputs = {
  Sluice: {
    ClusterName: 'sluice-cluster',
    MigrateTaskDefinition: 'Sluice-migrate',
    MigrationImageTag: 'v1.3.0',
    AppSubnets: 'subnet-a,subnet-b',
    MigrateSecurityGroupId: 'sg-123',
  },
};
const fakeAws = `#!/bin/sh
printf '%s\\n' "$*" >> "$AWS_CALLS"
case "$1 $2" in
  "ecs run-task") echo "arn:aws:ecs:eu-west-1:123456789012:task/sluice-cluster/abc" ;;
  "ecs wait") ;;
  "ecs describe-tasks") case "$*" in *exitCode*) echo "$FAKE_EXIT_CODE" ;; *) echo "Essential container in task exited" ;; esac ;;
esac
`;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sluice-migrate-'));
  await writeFile(path.join(dir, 'aws'), fakeAws);
  await chmod(path.join(dir, 'aws'), 0o755);
  await writeFile(path.join(dir, 'outputs.json'), JSON.stringify(outputs));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function migrate(exitCode: string, outputsFile = path.join(dir, 'outputs.json'), extra: string[] = []) {
  const env = { PATH: `${dir}:${process.env.PATH ?? ''}`, AWS_CALLS: path.join(dir, 'calls'), FAKE_EXIT_CODE: exitCode };
  const result = await run('bash', [script, outputsFile, ...extra], { env }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
  const calls = await readFile(path.join(dir, 'calls'), 'utf8').then(
    (text) => text.trim().split('\n'),
    () => [],
  );
  return { ...result, calls };
}

test('runs the migration task in the private subnets, waits for it, and succeeds when it exits 0', async () => {
  const { code, stdout, calls } = await migrate('0');
  expect(code).toBe(0);
  expect(calls[0]).toBe(
    'ecs run-task --cluster sluice-cluster --task-definition Sluice-migrate --launch-type FARGATE --network-configuration ' +
      'awsvpcConfiguration={subnets=[subnet-a,subnet-b],securityGroups=[sg-123],assignPublicIp=DISABLED} --overrides {} --started-by sluice-migrate ' +
      '--query tasks[0].taskArn --output text',
  );
  expect(calls[1]).toBe(
    'ecs wait tasks-stopped --cluster sluice-cluster --tasks arn:aws:ecs:eu-west-1:123456789012:task/sluice-cluster/abc',
  );
  expect(stdout).toContain('image tag v1.3.0');
  expect(stdout).toContain('migrate: done');
});

test('--grant-app-login runs a command in the same task that sets the app secret as the role password', async () => {
  const { code, calls } = await migrate('0', path.join(dir, 'outputs.json'), ['--grant-app-login']);
  expect(code).toBe(0);
  const overrides = JSON.parse(/--overrides (.*) --started-by/.exec(calls[0]!)![1]!);
  const [container] = overrides.containerOverrides;
  expect([container.name, container.command.slice(0, 2)]).toStrictEqual(['migrate', ['node', '-e']]);

  // Run that command as the container would, against a stand-in pg that records the SQL.
  const pg = path.join(dir, 'app/packages/db/node_modules/pg');
  await mkdir(pg, { recursive: true });
  await writeFile(
    path.join(pg, 'index.js'),
    `exports.Client = class { constructor(o) { this.url = o.connectionString; }
      async connect() {} async end() {}
      async query(sql) { require('fs').writeFileSync(process.env.SQL_LOG, [this.url, sql].join(' | ')); } };`,
  );
  const env = {
    PATH: process.env.PATH ?? '',
    DATABASE_URL: 'postgres://sluice_owner:pw@db:5432/sluice',
    APP_DATABASE_PASSWORD: 'Abc123def456GHI789jkl0',
    SQL_LOG: path.join(dir, 'sql'),
  };
  const { stdout } = await run(container.command[0], container.command.slice(1), { cwd: path.join(dir, 'app'), env });
  expect(stdout).toContain('sluice_app may log in');
  expect(await readFile(path.join(dir, 'sql'), 'utf8')).toBe(
    "postgres://sluice_owner:pw@db:5432/sluice | ALTER ROLE sluice_app WITH LOGIN PASSWORD 'Abc123def456GHI789jkl0'",
  );
  // Anything but the generated secret's alphabet never reaches SQL.
  await expect(
    run(container.command[0], container.command.slice(1), {
      cwd: path.join(dir, 'app'),
      env: { ...env, APP_DATABASE_PASSWORD: "x'; DROP ROLE x; --" },
    }),
  ).rejects.toMatchObject({
    stderr: expect.stringContaining('APP_DATABASE_PASSWORD: expected the generated secret'),
  });
});

test("fails with the migration's exit code and the reason ECS gives", async () => {
  const { code, stderr } = await migrate('3');
  expect(code).toBe(3);
  expect(stderr).toContain('migrate: failed (exit code 3; Essential container in task exited)');
});

test('an outputs file without the stack outputs stops before anything runs', async () => {
  await writeFile(path.join(dir, 'empty.json'), JSON.stringify({ Other: {} }));
  const { code, stderr, calls } = await migrate('0', path.join(dir, 'empty.json'));
  expect(code).toBe(2);
  expect(stderr).toContain('has no output ClusterName for stack Sluice');
  expect(calls).toStrictEqual([]);
});
