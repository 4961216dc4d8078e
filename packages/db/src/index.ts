export { createDatabase, type Database } from './database.js';
export { withTenant } from './tenant-scope.js';
export { ApiKeyCache, type KeyOwner } from './api-key-cache.js';
export { assertSchemaCurrent, ensureDatabase, migrateToLatest } from './migrate.js';
export * from './schema.js';
export { datasetHasRecords, findDatasetById, findDatasetByName, insertDataset, isUniqueViolation, listDatasets } from './datasets.repository.js';
export {
  cancelJob,
  completeJob,
  failJob,
  findJob,
  findJobByIdempotencyKey,
  insertJob,
  listJobs,
  reopenJob,
  saveJobColumns,
  saveJobReading,
  startJob,
  type JobView,
} from './jobs.repository.js';
export { appendPushSegment, firstPushSegment, inputKeys, MAX_PUSH_SEGMENTS, pushRows, type PushSegment } from './push-segments.repository.js';
export { findRecord, listRecords, type RecordFilter, type RecordView } from './records.repository.js';
export {
  dailyTotals,
  recordCounts,
  sourceSummaries,
  totalsByDatasetAndWay,
  type DailyTotals,
  type DatasetWayTotals,
  type RowTotals,
  type SourceSummary,
} from './stats.repository.js';
export {
  completePullRun,
  deleteSource,
  findOpenRun,
  findSource,
  insertPullRun,
  insertSource,
  listSourceRuns,
  listSources,
  updateSource,
  type SourceView,
} from './sources.repository.js';
export {
  authenticateApiKey,
  insertApiKey,
  insertTenant,
  listApiKeys,
  listTenants,
  revokeApiKey,
  type ApiKeyView,
} from './tenants.repository.js';
export { listRejectedColumns, listValidationErrors } from './validation-errors.repository.js';
export { BatchWriter, type BatchOutcome, type JobRef } from './batch-writer.js';
export { AtomicWriter } from './atomic-writer.js';
