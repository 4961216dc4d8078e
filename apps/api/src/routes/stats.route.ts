import {
  dailyTotals,
  findDatasetByName,
  recordCounts,
  sourceSummaries,
  totalsByDatasetAndWay,
  type JobKind,
  type RowTotals,
} from '@sluice/db';
import { AppError } from '@sluice/errors';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';

const WAYS: readonly JobKind[] = ['upload', 'push', 'pull'];
const DAYS = 30;

const zero = (): RowTotals => ({ jobs: 0, rows: 0, valid: 0, invalid: 0, inserted: 0, updated: 0, unchanged: 0 });

function add(into: RowTotals, from: RowTotals) {
  for (const k of Object.keys(into) as Array<keyof RowTotals>) into[k] += from[k];
}

/** Totals with their rates: rejected rows of all rows read, unchanged rows of all valid ones. */
function withRates(t: RowTotals) {
  const rate = (part: number, whole: number) => (whole === 0 ? null : Math.round((part / whole) * 10_000) / 10_000);
  return { ...t, rejectRate: rate(t.invalid, t.rows), unchangedRate: rate(t.unchanged, t.valid) };
}

const iso = (d: Date | null) => (d === null ? null : new Date(d).toISOString());

/**
 * `GET /stats`: what came in and how it fared, per dataset and per way in (upload, push,
 * pull); rows per UTC day over the last 30 days; and each source's last run and last
 * success. `?dataset=` narrows everything to one dataset.
 */
export async function statsRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.get('/stats', { schema: { querystring: z.object({ dataset: z.string().min(1).optional() }) } }, async (request) => {
    const tenantId = request.tenantId;
    const name = request.query.dataset;
    const { totals, counts, daily, sources } = await request.withTenant(async (db) => {
      const dataset = name === undefined ? undefined : await findDatasetByName(db, tenantId, name);
      if (name !== undefined && dataset === undefined) throw new AppError('not_found', `dataset "${name}" not found`);
      return {
        totals: await totalsByDatasetAndWay(db, tenantId, dataset?.id),
        counts: await recordCounts(db, tenantId, dataset?.id),
        daily: await dailyTotals(db, tenantId, DAYS, dataset?.id),
        sources: await sourceSummaries(db, tenantId, dataset?.id),
      };
    });

    const all = zero();
    const allByWay = Object.fromEntries(WAYS.map((w) => [w, zero()])) as Record<JobKind, RowTotals>;
    const datasets = new Map<string, { dataset: string; records: number; totals: RowTotals; byWay: Record<JobKind, RowTotals> }>();
    for (const row of totals) {
      let d = datasets.get(row.dataset_id);
      if (d === undefined) {
        d = {
          dataset: row.dataset_name,
          records: counts.get(row.dataset_id) ?? 0,
          totals: zero(),
          byWay: Object.fromEntries(WAYS.map((w) => [w, zero()])) as Record<JobKind, RowTotals>,
        };
        datasets.set(row.dataset_id, d);
      }
      const { dataset_id: _id, dataset_name: _name, kind, ...t } = row;
      add(d.totals, t);
      add(d.byWay[kind], t);
      add(all, t);
      add(allByWay[kind], t);
    }
    const byWay = (w: Record<JobKind, RowTotals>) => Object.fromEntries(WAYS.map((k) => [k, withRates(w[k])]));
    return {
      totals: { records: [...counts.values()].reduce((a, b) => a + b, 0), ...withRates(all), byWay: byWay(allByWay) },
      datasets: [...datasets.values()].map((d) => ({
        dataset: d.dataset,
        records: d.records,
        ...withRates(d.totals),
        byWay: byWay(d.byWay),
      })),
      daily,
      sources: sources.map((s) => ({
        id: s.id,
        name: s.name,
        dataset: s.dataset_name,
        lastRunAt: iso(s.last_run_at),
        lastSuccessAt: iso(s.last_success_at),
        lastSuccessJobId: s.last_success_job_id,
        openRunJobId: s.open_run_job_id,
      })),
    };
  });
}
