import { storedReadOptions, uploadReadFieldsSchema } from './read-options.js';

describe('read options', () => {
  test('upload fields are text: flags, counts and rates are parsed, delimiter names accepted', () => {
    expect(
      uploadReadFieldsSchema.parse({
        header: 'false',
        maxErrors: '10',
        maxErrorRate: '0.05',
        atomic: '1',
        delimiter: 'tab',
        encoding: 'Latin1',
      }),
    ).toEqual({ header: false, maxErrors: 10, maxErrorRate: 0.05, atomic: true, delimiter: '\t', encoding: 'iso-8859-1' });
  });

  test.each([
    { header: 'no' },
    { maxErrors: '-1' },
    { maxErrorRate: '2' },
    { delimiter: 'x' },
    { decimal: ';' },
    { unknownColumns: 'drop' },
    { other: '1' },
  ])('%j is refused', (fields) => {
    expect(uploadReadFieldsSchema.safeParse(fields).success).toBe(false);
  });

  test('stored options: unknown keys are passed over, a broken value drops the set', () => {
    expect(storedReadOptions({ decimal: ',', compression: 'gzip' })).toEqual({ decimal: ',' });
    expect(storedReadOptions(null)).toEqual({});
  });
});
