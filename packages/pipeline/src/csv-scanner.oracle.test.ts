import { parse } from 'csv-parse/sync';
import { CsvScanner, type CsvRecord } from './csv-scanner.js';

// Differential test: for random RFC 4180 files, cut into random chunks, the scanner reads
// the same fields as csv-parse.

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const ALPHABET = ['a', 'b', 'Z', '0', ' ', ',', '"', '\n', '\r\n', 'é', '€', ';', '\t', "'"];

function field(rand: () => number): string {
  const length = Math.floor(rand() * 8);
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[Math.floor(rand() * ALPHABET.length)];
  return out;
}

function quote(value: string, rand: () => number): string {
  const needs = /[",\r\n]/.test(value) || value === '';
  return needs || rand() < 0.2 ? `"${value.replaceAll('"', '""')}"` : value;
}

function scan(text: string, cuts: number[]): string[][] {
  const scanner = new CsvScanner();
  const out: CsvRecord[] = [];
  let from = 0;
  for (const cut of [...cuts, text.length]) {
    scanner.push(text.slice(from, cut), out);
    from = cut;
  }
  scanner.end(out);
  return out.map((r) => r.fields);
}

test.each(Array.from({ length: 200 }, (_, i) => i + 1))('random file %i reads as csv-parse reads it', (seed) => {
  const rand = random(seed);
  const width = 1 + Math.floor(rand() * 5);
  const eol = rand() < 0.5 ? '\n' : '\r\n';
  const rows = Array.from({ length: 1 + Math.floor(rand() * 20) }, () => Array.from({ length: width }, () => field(rand)));
  // A row of empty values is skipped by both readers; give every row one non-empty field.
  for (const row of rows) if (row.join('') === '') row[0] = 'x';
  const text = rows.map((row) => row.map((v) => quote(v, rand)).join(',')).join(eol) + (rand() < 0.5 ? eol : '');
  const cuts = Array.from({ length: Math.floor(rand() * 6) }, () => Math.floor(rand() * text.length)).sort((a, b) => a - b);

  const expected = parse(text, { relax_column_count: true, skip_empty_lines: true }) as string[][];
  expect(scan(text, cuts)).toEqual(expected);
  expect(expected).toEqual(rows);
});
