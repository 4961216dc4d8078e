// The CSV path of the worker without the database: read → decode → parse → map, validate,
// normalize, hash, on one generated file. A quick figure for changes to those steps; the
// full benchmark (npm run bench) measures the whole system.
//
//   node bench/csv-path.mjs                          # 1,000,000 rows, best of 3
//   node bench/csv-path.mjs --rows 200000 --repeat 5
//   node bench/csv-path.mjs --pipeline /other/checkout/packages/pipeline/dist/index.js
//
// --pipeline compares another build of @sluice/pipeline (an older commit's) on the same file.
import { createReadStream, createWriteStream, existsSync, statSync } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { fmt, opt, root } from './lib.mjs';

const ROWS = Number(opt('rows', 1_000_000));
const REPEAT = Number(opt('repeat', 3));
const modulePath = path.resolve(opt('pipeline', path.join(root, 'packages/pipeline/dist/index.js')));
const pipeline = await import(pathToFileURL(modulePath).href);

const spec = {
  key: ['email'],
  fields: [
    { name: 'email', type: 'email', required: true, aliases: [] },
    { name: 'name', type: 'string', required: false, aliases: [] },
    { name: 'amount', type: 'number', required: false, aliases: [] },
    { name: 'signup_date', type: 'date', required: false, aliases: [] },
    { name: 'country', type: 'enum', required: false, aliases: [], values: ['DE', 'FR', 'US'] },
    { name: 'active', type: 'boolean', required: false, aliases: [] },
  ],
};

const file = path.join(os.tmpdir(), `sluice-csv-path-${ROWS}.csv`);
if (!existsSync(file)) {
  const out = createWriteStream(file);
  out.write('email,name,amount,signup_date,country,active\n');
  const countries = ['DE', 'FR', 'US'];
  for (let i = 0; i < ROWS; i++) {
    const line = `user${i}@example.com,"Name ${i}, Jr",${(i % 1000) / 10},2024-0${(i % 9) + 1}-1${i % 10},${countries[i % 3]},${i % 2 === 0 ? 'yes' : 'no'}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

async function run() {
  const bytes = createReadStream(file, { highWaterMark: 1 << 16 });
  const detects = typeof pipeline.decodeText === 'function';
  let encoding;
  const text = detects ? pipeline.decodeText(bytes, { onDecided: (d) => (encoding = d.encoding) }) : pipeline.decodeUtf8(bytes);
  const rows = pipeline.parseRows('csv', text);
  const options = detects ? { invalidBytesIn: () => (encoding?.startsWith('utf-') ? encoding : undefined) } : {};
  let valid = 0;
  const started = performance.now();
  for await (const prepared of pipeline.prepareRows(rows, spec, options)) for (const r of prepared) if (r.ok) valid++;
  return { seconds: (performance.now() - started) / 1000, valid };
}

const times = [];
let valid = 0;
for (let i = 0; i < REPEAT; i++) {
  const r = await run();
  times.push(r.seconds);
  valid = r.valid;
}
const best = Math.min(...times);
const mb = statSync(file).size / 1024 ** 2;
console.log(`pipeline: ${modulePath}`);
console.log(`file: ${ROWS} rows, ${mb.toFixed(1)} MB; valid rows: ${valid}`);
console.log(`runs (s): ${times.map((t) => t.toFixed(2)).join(', ')}`);
console.log(`best: ${best.toFixed(2)} s, ${fmt(ROWS / best)} rows/s, ${(mb / best).toFixed(1)} MB/s`);
