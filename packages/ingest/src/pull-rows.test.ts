import { retryAfterMs } from './fetch-page.js';
import { compareCursor, nextLink } from './pull-rows.js';
import { durationMs, scheduleSchema } from './source-spec.js';

describe('nextLink', () => {
  test('finds rel="next" among several links, resolved against the page', () => {
    const header =
      '<https://api.example.com/items?page=1>; rel="first", </items?page=3>; rel="next", <https://api.example.com/items?page=9>; rel="last"';
    expect(nextLink(header, 'https://api.example.com/items?page=2')).toBe('https://api.example.com/items?page=3');
  });

  test('rel may hold several types, unquoted too; no next means the end', () => {
    expect(nextLink('<https://a.example/p2>; rel="next last"', 'https://a.example/')).toBe('https://a.example/p2');
    expect(nextLink('<https://a.example/p2>; rel=next', 'https://a.example/')).toBe('https://a.example/p2');
    expect(nextLink('<https://a.example/p1>; rel="prev"', 'https://a.example/')).toBeUndefined();
    expect(nextLink('<https://a.example/p1>; rel="nextish"', 'https://a.example/')).toBeUndefined();
    expect(nextLink(null, 'https://a.example/')).toBeUndefined();
  });
});

describe('retryAfterMs', () => {
  test('delta seconds and HTTP dates', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(10_000);
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 07:29:00 GMT'))).toBe(0);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
  });
});

describe('compareCursor', () => {
  test('numbers as numbers, timestamps as instants, other text as text', () => {
    expect(compareCursor(9, 10)).toBeLessThan(0);
    expect(compareCursor('2024-01-02T00:00:00+02:00', '2024-01-01T23:00:00Z')).toBeLessThan(0);
    expect(compareCursor('b', 'a')).toBeGreaterThan(0);
    expect(compareCursor('x', 'x')).toBe(0);
  });
});

describe('schedules', () => {
  test('durations', () => {
    expect(durationMs('90s')).toBe(90_000);
    expect(durationMs('5m')).toBe(300_000);
    expect(durationMs('1d')).toBe(86_400_000);
  });

  test('every at least 10 s; every or cron, not both', () => {
    expect(scheduleSchema.safeParse({ every: '5m' }).success).toBe(true);
    expect(scheduleSchema.safeParse({ every: '5s' }).success).toBe(false);
    expect(scheduleSchema.safeParse({ every: 'often' }).success).toBe(false);
    expect(scheduleSchema.safeParse({ cron: '*/5 * * * *' }).success).toBe(true);
    expect(scheduleSchema.safeParse({ every: '5m', cron: '*/5 * * * *' }).success).toBe(false);
  });
});
