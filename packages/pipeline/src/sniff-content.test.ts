import { sniffContent } from './sniff-content.js';

describe('sniffContent', () => {
  test.each<[string, number[], 'csv' | 'xlsx', string | undefined]>([
    ['gzip', [0x1f, 0x8b, 8], 'csv', undefined],
    ['a ZIP as xlsx', [0x50, 0x4b, 3, 4], 'xlsx', undefined],
    ['a ZIP as csv', [0x50, 0x4b, 3, 4], 'csv', 'the file is a ZIP archive, which Sluice reads only as .xlsx'],
    ['UTF-16 with its NULs', [0xff, 0xfe, 0x61, 0], 'csv', undefined],
    ['text', [...Buffer.from('a,b\n')], 'csv', undefined],
    ['a header that starts like an executable', [...Buffer.from('MZ_code,name\n')], 'csv', undefined],
  ])('%s', (_what, bytes, format, refused) => {
    expect(sniffContent(Uint8Array.from(bytes), { format }).refused).toBe(refused);
  });
});
