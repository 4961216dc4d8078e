import { DELIMITERS } from './read-options.js';

const SAMPLE_LINES = 50;

/**
 * Picks the delimiter of a CSV sample: for each candidate (comma, semicolon, tab, pipe), the
 * count outside quotes on each of the first lines; the one that appears on the first line
 * and most often with that same count on the others wins, then the more frequent one. A
 * sample where none appears (one column) is comma. The last line of an incomplete sample
 * may be cut short and is not counted.
 */
export function sniffDelimiter(sample: string, complete = true): string {
  const counts: number[][] = DELIMITERS.map(() => []);
  let current = DELIMITERS.map(() => 0);
  let quoted = false;
  let lines = 0;
  let lineHasText = false;
  for (let i = 0; i < sample.length && lines < SAMPLE_LINES; i++) {
    const c = sample[i]!;
    if (c === '"') quoted = !quoted;
    else if (!quoted && (c === '\n' || c === '\r')) {
      if (lineHasText) {
        current.forEach((n, k) => counts[k]!.push(n));
        lines++;
      }
      current = DELIMITERS.map(() => 0);
      lineHasText = false;
    } else if (!quoted) {
      const k = (DELIMITERS as readonly string[]).indexOf(c);
      if (k !== -1) current[k]!++;
      lineHasText = true;
    } else lineHasText = true;
  }
  if (complete && lineHasText && lines < SAMPLE_LINES) current.forEach((n, k) => counts[k]!.push(n));

  let best = ',';
  let bestScore = -1;
  let bestCount = 0;
  DELIMITERS.forEach((d, k) => {
    const perLine = counts[k]!;
    const first = perLine[0] ?? 0;
    if (first === 0) return;
    const agreeing = perLine.filter((n) => n === first).length / perLine.length;
    if (agreeing > bestScore || (agreeing === bestScore && first > bestCount)) {
      best = d;
      bestScore = agreeing;
      bestCount = first;
    }
  });
  return best;
}
