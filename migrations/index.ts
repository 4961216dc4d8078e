import type { Migration } from 'kysely';
import * as initial from './0001_initial.js';
import * as recordsListing from './0002_records_listing.js';
import * as tenancy from './0003_tenancy.js';
import * as fileOptions from './0004_file_options.js';
import * as sources from './0005_sources.js';
import * as apiKeyChanges from './0006_api_key_changes.js';

/** Every migration Sluice knows, by name, in order. The app refuses a database with others. */
export const migrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_records_listing': recordsListing,
  '0003_tenancy': tenancy,
  '0004_file_options': fileOptions,
  '0005_sources': sources,
  '0006_api_key_changes': apiKeyChanges,
};
