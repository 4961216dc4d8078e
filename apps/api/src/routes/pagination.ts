import { z } from 'zod';

export const limitSchema = z.coerce.number().int().min(1).max(1000).default(100);

/** Fetches one more than asked to know whether another page follows. */
export function page<T>(rows: T[], limit: number, cursorOf: (row: T) => string | number): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last !== undefined ? String(cursorOf(last)) : null };
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
