// The chaos suite (tests/chaos): private PostgreSQL and Redis servers, the real API and worker
// processes, killed and restarted on purpose. No globalSetup: tests/chaos/cluster.ts starts
// everything it needs and stops it in afterAll. One file at a time: the cases share a 2-core
// machine with the servers they break.
// Run: npm run test:chaos
import base from './jest.config.mjs';

/** @type {import('jest').Config} */
export default {
  testEnvironment: base.testEnvironment,
  extensionsToTreatAsEsm: base.extensionsToTreatAsEsm,
  transform: base.transform,
  moduleNameMapper: base.moduleNameMapper,
  testMatch: ['<rootDir>/tests/chaos/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  testTimeout: 180_000,
  maxWorkers: 1,
  verbose: true,
};
