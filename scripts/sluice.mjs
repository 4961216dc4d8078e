#!/usr/bin/env node
// The root scripts' one entry point. It works with only Node and npm installed: it installs
// the workspace (with the pinned pnpm, fetched by npx when pnpm is absent) when the lock file
// changed, builds what changed, then runs the command.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROCESSES } from './processes.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pnpmVersion = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).packageManager.split('@')[1];
const [command = 'start', ...args] = process.argv.slice(2);

function run(cmd, cmdArgs, options = {}) {
  const result = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', ...options });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

function pnpm() {
  const found = spawnSync('pnpm', ['--version'], { encoding: 'utf8' });
  if (found.status === 0 && found.stdout.trim() === pnpmVersion) return ['pnpm', []];
  return ['npx', ['--yes', `pnpm@${pnpmVersion}`]];
}

function ensureInstalled() {
  const lock = createHash('sha256').update(readFileSync(path.join(root, 'pnpm-lock.yaml'))).digest('hex');
  const marker = path.join(root, 'node_modules', '.sluice-lock-sha256');
  if (existsSync(marker) && readFileSync(marker, 'utf8') === lock) return;
  console.error('sluice: installing dependencies (pnpm install --frozen-lockfile)…');
  const [bin, pre] = pnpm();
  // The project's .npmrc silences npm's own banner (so `npm run admin -- … --json` prints
  // JSON only); an install should still say what went wrong.
  run(bin, [...pre, 'install', '--frozen-lockfile', '--config.confirmModulesPurge=false'], { env: { ...process.env, npm_config_loglevel: 'warn' } });
  writeFileSync(marker, lock);
}

const tsc = () => run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-b', ...args.filter((a) => a === '--verbose')]);
const node = (script, extra = []) => run(process.execPath, ['--enable-source-maps', path.join(root, script), ...extra]);
const serve = (name) => run(process.execPath, [...PROCESSES[name].nodeArgs, path.join(root, PROCESSES[name].script)]);

function supervise() {
  // API and worker in the foreground; Ctrl-C (or SIGTERM) stops both, each shutting down cleanly.
  const children = Object.entries(PROCESSES).map(([name, { script, nodeArgs }]) => ({
    name,
    // The IPC channel tells a child that this supervisor is gone, even when it was killed -9.
    proc: spawn(process.execPath, [...nodeArgs, path.join(root, script)], { cwd: root, stdio: ['inherit', 'inherit', 'inherit', 'ipc'] }),
  }));
  let exitCode = 0;
  let stopping = false;
  const stopAll = (signal) => {
    stopping = true;
    for (const { proc } of children) if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
  };
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stopAll('SIGTERM'));
  let left = children.length;
  for (const { name, proc } of children) {
    proc.on('exit', (code, signal) => {
      if (!stopping) {
        console.error(`sluice: ${name} exited (${signal ?? code}); stopping the rest`);
        exitCode = code || 1;
        stopAll('SIGTERM');
      }
      if (--left === 0) process.exit(exitCode);
    });
  }
}

// The CDK app (infra/) stays out of the root build graph: aws-cdk-lib's types are large, and
// only these commands and the typecheck need it compiled.
const tscInfra = () => run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-b', 'infra']);
const infra = (script, extra) => run(process.execPath, [script, ...extra], { cwd: path.join(root, 'infra') });

const jest = (config = []) =>
  run(process.execPath, ['--experimental-vm-modules', '--no-warnings=ExperimentalWarning', path.join(root, 'node_modules/jest/bin/jest.js'), ...config, ...args], {
    env: { ...process.env, NODE_ENV: 'test' },
  });

const commands = {
  install: () => ensureInstalled(),
  build: () => (ensureInstalled(), tsc()),
  migrate: () => (ensureInstalled(), tsc(), node('apps/cli/dist/migrate.js')),
  admin: () => (ensureInstalled(), tsc(), node('apps/cli/dist/admin.js', args)),
  api: () => (ensureInstalled(), tsc(), serve('api')),
  worker: () => (ensureInstalled(), tsc(), serve('worker')),
  start: () => (ensureInstalled(), tsc(), node('apps/cli/dist/migrate.js'), supervise()),
  test: () => (ensureInstalled(), tsc(), jest()),
  'test:chaos': () => (ensureInstalled(), tsc(), jest(['-c', 'jest.chaos.config.mjs'])),
  typecheck: () => (ensureInstalled(), tsc(), tscInfra(), run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.test.json'])),
  lint: () => (ensureInstalled(), run(process.execPath, [path.join(root, 'node_modules/eslint/bin/eslint.js'), '.', '--max-warnings=0'])),
  bench: () => (ensureInstalled(), tsc(), node('bench/run.mjs', args)),
  'infra:synth': () => (ensureInstalled(), tscInfra(), infra('dist/synth.js', args)),
  cdk: () => (ensureInstalled(), tscInfra(), infra(path.join(root, 'infra/node_modules/aws-cdk/bin/cdk'), args)),
  'bench:push': () => (ensureInstalled(), tsc(), node('bench/push.mjs', args)),
};

const action = commands[command];
if (action === undefined) {
  console.error(`sluice: unknown command "${command}"; one of ${Object.keys(commands).join(', ')}`);
  process.exit(2);
}
action();
