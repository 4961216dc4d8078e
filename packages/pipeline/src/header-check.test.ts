import { AppError } from '@sluice/errors';
import type { FieldSpec } from './dataset-spec.js';
import { checkHeader } from './header-check.js';

const field = (name: string, required = false, aliases: string[] = []): FieldSpec => ({ name, type: 'string', required, aliases });

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
