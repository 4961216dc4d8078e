// The chaos suite (tests/chaos): private PostgreSQL and Redis servers, the real API and worker
// processes, killed and restarted on purpose. No globalSetup: tests/chaos/cluster.ts starts
// everything it needs and stops it in afterAll. One file at a time: the cases share a 2-core
// machine with the servers they break.
// Run: npm run test:chaos
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
  testMatch: ['<rootDir>/tests/chaos/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  testTimeout: 180_000,
  maxWorkers: 1,
  verbose: true,
};
