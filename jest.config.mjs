/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'es6' } }],
  },
  moduleNameMapper: {
    '^@sluice/api$': '<rootDir>/apps/api/src/app.ts',
    '^@sluice/migrations$': '<rootDir>/migrations/index.ts',
    '^@sluice/(.*)$': '<rootDir>/packages/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testMatch: [
    '<rootDir>/packages/*/src/**/*.test.ts',
    '<rootDir>/apps/*/src/**/*.test.ts',
    '<rootDir>/tests/**/*.test.ts',
    // The CDK app's synthesized templates (no AWS account, no Docker).
    '<rootDir>/infra/test/**/*.test.ts',
  ],
  // The chaos suite kills and restarts its own servers: it has its own command, npm run test:chaos.
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '<rootDir>/tests/chaos/'],
  globalSetup: '<rootDir>/tests/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/tests/helpers/global-teardown.ts',
  testTimeout: 60_000,
  maxWorkers: 2,
};
