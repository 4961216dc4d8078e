// The .xlsx path of the worker without the database: a generated workbook read by the
// pipeline's streaming reader, with its speed and the process's peak memory. The sheet is
// written with exceljs's streaming writer, inline strings (as most exporters write them).
//
//   node bench/xlsx-path.mjs                 # 300,000 rows
//   node bench/xlsx-path.mjs --rows 1000000
import { existsSync, statSync, createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { fmt, opt, root } from './lib.mjs';

const ROWS = Number(opt('rows', 300_000));
const pipelineDir = path.join(root, 'packages/pipeline');
const ExcelJS = createRequire(path.join(pipelineDir, 'package.json'))('exceljs');
const pipeline = await import(pathToFileURL(path.join(pipelineDir, 'dist/index.js')).href);

const file = path.join(os.tmpdir(), `sluice-xlsx-path-${ROWS}.xlsx`);
if (!existsSync(file)) {
  const writer = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings: false, useStyles: true });
  const sheet = writer.addWorksheet('Customers');
  sheet.columns = [{ key: 'id' }, { key: 'email' }, { key: 'name' }, { key: 'amount' }, { key: 'since', style: { numFmt: 'yyyy-mm-dd' } }];
  sheet.addRow(['id', 'email', 'name', 'amount', 'since']).commit();
  for (let i = 0; i < ROWS; i++) {
    sheet.addRow([i, `user${i}@example.com`, `Name ${i}`, (i % 1000) / 10, new Date(Date.UTC(2020, i % 12, (i % 28) + 1))]).commit();
  }
  sheet.commit();
  await writer.commit();
}

let peak = process.memoryUsage().rss;
const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
const started = performance.now();
let rows = 0;
let last;
for await (const chunk of pipeline.parseXlsx(createReadStream(file))) {
  rows += chunk.rows.length;
  last = chunk.rows.at(-1) ?? last;
}
const seconds = (performance.now() - started) / 1000;
clearInterval(timer);
const mb = statSync(file).size / 1024 ** 2;
console.log(`file: ${ROWS} rows, ${mb.toFixed(1)} MB; rows read: ${rows}; last: ${last?.raw}`);
console.log(`read: ${seconds.toFixed(2)} s, ${fmt(rows / seconds)} rows/s; peak RSS ${(peak / 1024 ** 2).toFixed(0)} MB`);
