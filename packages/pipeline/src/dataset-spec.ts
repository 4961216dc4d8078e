import { z } from 'zod';
import { datasetOptionsSchema } from './read-options.js';

export const FIELD_TYPES = ['string', 'integer', 'number', 'boolean', 'date', 'datetime', 'email', 'enum'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
// Names that mean something to every JavaScript object; as field names they invite trouble.
const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);

const fieldSchema = z
  .object({
    name: z
      .string()
      .regex(NAME, 'must start with a letter or _ and contain only letters, digits and _ (at most 63)')
      .refine((name) => !RESERVED.has(name), 'is a reserved name'),
    type: z.enum(FIELD_TYPES),
    required: z.boolean().default(false),
    aliases: z.array(z.string().trim().min(1).max(200)).max(20).default([]),
    min: z.number().finite().optional(),
    max: z.number().finite().optional(),
    minLength: z.number().int().min(0).optional(),
    maxLength: z.number().int().min(1).optional(),
    pattern: z.string().min(1).max(1000).optional(),
    values: z.array(z.string().min(1)).min(1).max(1000).optional(),
  })
  .strict()
  .superRefine((f, ctx) => {
    const issue = (message: string, path: string) => ctx.addIssue({ code: 'custom', message, path: [path] });
    if (f.type === 'enum' && f.values === undefined) issue('an enum field needs "values"', 'values');
    if (f.type !== 'enum' && f.values !== undefined) issue('"values" applies to enum fields only', 'values');
    const numeric = f.type === 'integer' || f.type === 'number';
    if ((f.min !== undefined || f.max !== undefined) && !numeric) issue('"min" and "max" apply to integer and number fields', 'min');
    if (f.min !== undefined && f.max !== undefined && f.min > f.max) issue('"min" is greater than "max"', 'min');
    const textual = f.type === 'string' || f.type === 'email';
    if ((f.minLength !== undefined || f.maxLength !== undefined || f.pattern !== undefined) && !textual) {
      issue('"minLength", "maxLength" and "pattern" apply to string and email fields', 'pattern');
    }
    if (f.minLength !== undefined && f.maxLength !== undefined && f.minLength > f.maxLength) {
      issue('"minLength" is greater than "maxLength"', 'minLength');
    }
    if (f.pattern !== undefined) {
      try {
        new RegExp(f.pattern, 'u');
      } catch (error) {
        issue(`"pattern" is not a valid regular expression: ${(error as Error).message}`, 'pattern');
      }
    }
  });

/** What `POST /datasets` accepts: a name, its fields, and which fields form a record's identity. */
export const datasetSpecSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be 1-63 lowercase letters, digits, _ or -, starting with a letter or digit'),
    fields: z.array(fieldSchema).min(1).max(500),
    key: z.array(z.string()).max(32).default([]),
    /** How this dataset's files are read unless an upload says otherwise. */
    options: datasetOptionsSchema.default({}),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const seen = new Map<string, string>();
    spec.fields.forEach((field, index) => {
      for (const label of [field.name, ...field.aliases]) {
        const folded = foldColumnName(label);
        const owner = seen.get(folded);
        if (owner !== undefined && owner !== field.name) {
          ctx.addIssue({ code: 'custom', path: ['fields', index], message: `"${label}" already names field "${owner}"` });
        }
        seen.set(folded, field.name);
      }
    });
    const names = new Set(spec.fields.map((f) => f.name));
    if (names.size !== spec.fields.length) ctx.addIssue({ code: 'custom', path: ['fields'], message: 'field names must be unique' });
    spec.key.forEach((k, index) => {
      if (!names.has(k)) ctx.addIssue({ code: 'custom', path: ['key', index], message: `"${k}" is not a field of this dataset` });
    });
    if (new Set(spec.key).size !== spec.key.length) ctx.addIssue({ code: 'custom', path: ['key'], message: 'key fields must be unique' });
  })
  // A record without its key would share an identity with every other such record.
  .transform((spec) => ({ ...spec, fields: spec.fields.map((f) => (spec.key.includes(f.name) ? { ...f, required: true } : f)) }));

export type DatasetSpecInput = z.input<typeof datasetSpecSchema>;
export type DatasetSpec = z.output<typeof datasetSpecSchema>;
export type FieldSpec = DatasetSpec['fields'][number];

/** How column headers and aliases are compared: trimmed, case-insensitive. */
export function foldColumnName(name: string): string {
  return name.trim().toLowerCase();
}
