import { foldColumnName, type FieldSpec } from './dataset-spec.js';

/**
 * Maps input columns (CSV headers, JSON property names) to field names: trimmed,
 * case-insensitive, by name or alias. Lookups are cached, so a file's columns are resolved
 * once, not once per row.
 */
export class ColumnMapper {
  private readonly byLabel = new Map<string, string>();
  private readonly cache = new Map<string, string | null>();
  private planFor: readonly string[] | null = null;
  private plan: Array<[field: string, index: number]> = [];

  private readonly fieldNames: readonly string[];

  constructor(fields: readonly FieldSpec[]) {
    this.fieldNames = fields.map((f) => f.name);
    for (const f of fields) {
      for (const label of [f.name, ...f.aliases]) this.byLabel.set(foldColumnName(label), f.name);
    }
  }

  /** The field a column feeds, or null when the dataset has none for it. */
  fieldFor(column: string): string | null {
    let field = this.cache.get(column);
    if (field === undefined) {
      field = this.byLabel.get(foldColumnName(column)) ?? null;
      this.cache.set(column, field);
    }
    return field;
  }

  /** Which column index feeds which field; where two columns name one field, the first wins. */
  mapping(columns: readonly string[]): Array<[field: string, index: number]> {
    if (this.planFor !== columns) {
      const taken = new Set<string>();
      this.plan = [];
      columns.forEach((column, index) => {
        const field = this.fieldFor(column);
        if (field !== null && !taken.has(field)) {
          taken.add(field);
          this.plan.push([field, index]);
        }
      });
      this.planFor = columns;
    }
    return this.plan;
  }

  /** Every field gets its key (undefined when no column feeds it), so validation need not copy. */
  fromCells(cells: readonly string[], columns: readonly string[]): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const name of this.fieldNames) out[name] = undefined;
    for (const [field, index] of this.mapping(columns)) out[field] = cells[index];
    return out;
  }

  fromObject(values: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(values)) {
      const field = this.fieldFor(key);
      if (field !== null && !Object.hasOwn(out, field)) out[field] = values[key];
    }
    return out;
  }
}
