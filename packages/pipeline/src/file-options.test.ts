import { AppError } from '@sluice/errors';
import { checkHeader } from './header-check.js';
import { decimalCommaToPoint, normalizeNumber } from './normalize.js';
import { storedReadOptions, uploadReadFieldsSchema } from './read-options.js';
import { sniffContent } from './sniff-content.js';
import type { FieldSpec } from './dataset-spec.js';

const field = (name: string, required = false, aliases: string[] = []): FieldSpec => ({ name, type: 'string', required, aliases });

describe('decimalCommaToPoint', () => {
  test.each([
    ['1.234,56', 1234.56],
    ['-0,5', -0.5],
    ['12', 12],
    ['1.234.567', 1234567],
    [' 3,25 ', 3.25],
    ['1,2,3', undefined],
    ['abc', undefined],
  ])('%j → %j', (text, expected) => {
    expect(normalizeNumber(decimalCommaToPoint(text))).toBe(expected);
  });
});

describe('checkHeader', () => {
  const fields = [field('id', true, ['Nr']), field('name'), field('city')];

  test('maps each column and says what it does', () => {
    expect(checkHeader(['Nr', 'NAME', 'extra'], fields, 'keep')).toEqual([
      { column: 'Nr', field: 'id', action: 'field' },
      { column: 'NAME', field: 'name', action: 'field' },
      { column: 'extra', field: null, action: 'kept' },
    ]);
  });

  test('lists every problem at once', () => {
    let error: unknown;
    try {
      checkHeader(['name', 'Name', 'x'], fields, 'reject');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({
      code: 'header_mismatch',
      message:
        'the header does not fit the dataset: missing required column "id"; columns "name", "Name" all feed field "name"; unknown column "x" (the dataset rejects unknown columns)',
      details: { missing: ['id'], duplicate: [{ field: 'name', columns: ['name', 'Name'] }], unknown: ['x'] },
    });
  });

  test('a column named __proto__ cannot be kept', () => {
    expect(() => checkHeader(['id', '__proto__'], fields, 'keep')).toThrow('column name "__proto__" cannot be kept');
  });
});

describe('read options', () => {
  test('upload fields are text: flags, counts and rates are parsed, delimiter names accepted', () => {
    expect(
      uploadReadFieldsSchema.parse({ header: 'false', maxErrors: '10', maxErrorRate: '0.05', atomic: '1', delimiter: 'tab', encoding: 'Latin1' }),
    ).toEqual({ header: false, maxErrors: 10, maxErrorRate: 0.05, atomic: true, delimiter: '\t', encoding: 'iso-8859-1' });
  });

  test.each([{ header: 'no' }, { maxErrors: '-1' }, { maxErrorRate: '2' }, { delimiter: 'x' }, { decimal: ';' }, { unknownColumns: 'drop' }, { other: '1' }])(
    '%j is refused',
    (fields) => {
      expect(uploadReadFieldsSchema.safeParse(fields).success).toBe(false);
    },
  );

  test('stored options: unknown keys are passed over, a broken value drops the set', () => {
    expect(storedReadOptions({ decimal: ',', compression: 'gzip' })).toEqual({ decimal: ',' });
    expect(storedReadOptions(null)).toEqual({});
  });
});

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
