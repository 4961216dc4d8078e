import { decimalCommaToPoint, normalizeBoolean, normalizeDate, normalizeDatetime, normalizeEmail, normalizeInteger, normalizeNumber } from './normalize.js';

describe('normalizeNumber', () => {
  test.each([
    ['42', 42],
    ['-7', -7],
    ['+3', 3],
    ['3.25', 3.25],
    ['1.', 1],
    ['.5', 0.5],
    ['-.5', -0.5],
    ['1e3', 1000],
    ['2.5E-2', 0.025],
    ['007', 7],
    [12.5, 12.5],
    [0, 0],
  ])('%j → %j', (input, expected) => {
    expect(normalizeNumber(input)).toBe(expected);
  });

  test.each([
    ['abc'],
    [''],
    [' 1'],
    ['1 '],
    ['1,5'],
    ['0x10'],
    ['1e'],
    ['.'],
    ['Infinity'],
    ['NaN'],
    ['1e400'],
    [Number.NaN],
    [Number.POSITIVE_INFINITY],
    [true],
    [null],
    [undefined],
    [{}],
  ])('%j is not a number', (input) => {
    expect(normalizeNumber(input)).toBeUndefined();
  });
});

describe('normalizeInteger', () => {
  test.each([
    ['42', 42],
    ['-42', -42],
    ['1.0', 1],
    ['1e3', 1000],
    ['9007199254740991', 9007199254740991],
    [17, 17],
  ])('%j → %j', (input, expected) => {
    expect(normalizeInteger(input)).toBe(expected);
  });

  test.each([['1.5'], [2.5], ['9007199254740992'], [2 ** 53], ['abc'], ['']])('%j is not a whole number', (input) => {
    expect(normalizeInteger(input)).toBeUndefined();
  });
});

describe('normalizeBoolean', () => {
  test.each(['true', 'TRUE', 'True', 't', 'yes', 'YES', 'y', '1', 'on', 'On'])('%j is true', (input) => {
    expect(normalizeBoolean(input)).toBe(true);
  });

  test.each(['false', 'FALSE', 'f', 'no', 'No', 'n', '0', 'off', 'OFF'])('%j is false', (input) => {
    expect(normalizeBoolean(input)).toBe(false);
  });

  test('JSON booleans and the numbers 1 and 0', () => {
    expect([normalizeBoolean(true), normalizeBoolean(false), normalizeBoolean(1), normalizeBoolean(0)]).toStrictEqual([
      true,
      false,
      true,
      false,
    ]);
  });

  test.each([['maybe'], [''], ['2'], ['yess'], [2], [-1], [null], [undefined]])('%j is not a boolean', (input) => {
    expect(normalizeBoolean(input)).toBeUndefined();
  });
});

describe('normalizeEmail', () => {
  test.each([
    ['bob@example.com', 'bob@example.com'],
    ['Bob.Smith@Example.COM', 'bob.smith@example.com'],
    ["o'neil+tag@mail.example.co.uk", "o'neil+tag@mail.example.co.uk"],
    ['a@b-c.io', 'a@b-c.io'],
  ])('%j → %j', (input, expected) => {
    expect(normalizeEmail(input)).toBe(expected);
  });

  test.each([
    ['bob'],
    ['bob@'],
    ['@example.com'],
    ['bob@localhost'],
    ['bob@@example.com'],
    ['bob smith@example.com'],
    [' bob@example.com'],
    ['bob@-example.com'],
    ['bob@example..com'],
    [`${'a'.repeat(250)}@x.io`],
    [42],
    [null],
  ])('%j is not an email address', (input) => {
    expect(normalizeEmail(input)).toBeUndefined();
  });

  test('254 characters is the longest address', () => {
    const longest = `${'a'.repeat(249)}@x.io`;
    expect(longest).toHaveLength(254);
    expect(normalizeEmail(longest)).toBe(longest);
  });
});

describe('normalizeDate', () => {
  test.each([
    ['2024-03-07', '2024-03-07'],
    ['2024-3-7', '2024-03-07'],
    ['2024/03/07', '2024-03-07'],
    ['2024/3/7', '2024-03-07'],
    ['07.03.2024', '2024-03-07'],
    ['7.3.2024', '2024-03-07'],
    ['2024-02-29', '2024-02-29'],
    ['2000-02-29', '2000-02-29'],
    ['2023-12-31', '2023-12-31'],
    ['0099-01-01', '0099-01-01'],
  ])('%j → %j', (input, expected) => {
    expect(normalizeDate(input)).toBe(expected);
  });

  test.each([
    ['2023-02-29'],
    ['1900-02-29'],
    ['2024-02-30'],
    ['2024-04-31'],
    ['2024-13-01'],
    ['2024-00-10'],
    ['2024-01-00'],
    ['29.02.2023'],
    ['03/07/2024'],
    ['2024-03-07T00:00:00Z'],
    [' 2024-03-07'],
    ['24-03-07'],
    ['yesterday'],
    [''],
    [20240307],
    [null],
  ])('%j is not a date', (input) => {
    expect(normalizeDate(input)).toBeUndefined();
  });
});

describe('normalizeDatetime', () => {
  test.each([
    ['2024-03-07T09:30:00Z', '2024-03-07T09:30:00.000Z'],
    ['2024-03-07T09:30:00z', '2024-03-07T09:30:00.000Z'],
    ['2024-03-07t09:30:00Z', '2024-03-07T09:30:00.000Z'],
    ['2024-03-07 09:30:00', '2024-03-07T09:30:00.000Z'],
    ['2024-03-07T09:30', '2024-03-07T09:30:00.000Z'],
    ['2024-03-07T09:30:15.5Z', '2024-03-07T09:30:15.500Z'],
    ['2024-03-07T09:30:15,25Z', '2024-03-07T09:30:15.250Z'],
    ['2024-03-07T09:30:15.123456789Z', '2024-03-07T09:30:15.123Z'],
    ['2024-03-07T09:30:15.9996Z', '2024-03-07T09:30:16.000Z'],
    ['2024-03-07T09:30:00 Z', '2024-03-07T09:30:00.000Z'],
  ])('%j → %j', (input, expected) => {
    expect(normalizeDatetime(input)).toBe(expected);
  });

  test.each([
    ['2024-03-07T09:30:00+02:00', '2024-03-07T07:30:00.000Z'],
    ['2024-03-07T09:30:00-05:30', '2024-03-07T15:00:00.000Z'],
    ['2024-03-07T09:30:00+0530', '2024-03-07T04:00:00.000Z'],
    ['2024-03-07T09:30:00-08', '2024-03-07T17:30:00.000Z'],
    ['2024-03-07 09:30 +01:00', '2024-03-07T08:30:00.000Z'],
    ['2024-03-07T01:30:00+05:00', '2024-03-06T20:30:00.000Z'],
    ['2024-12-31T23:30:00-01:00', '2025-01-01T00:30:00.000Z'],
    ['2024-03-01T00:30:00+01:00', '2024-02-29T23:30:00.000Z'],
    ['2024-03-07T09:30:00+00:00', '2024-03-07T09:30:00.000Z'],
    ['2024-03-07T09:30:00-00:00', '2024-03-07T09:30:00.000Z'],
  ])('offset %j converts to UTC %j', (input, expected) => {
    expect(normalizeDatetime(input)).toBe(expected);
  });

  test.each([
    ['2024-03-07'],
    ['2023-02-29T12:00:00Z'],
    ['2024-02-30T12:00:00Z'],
    ['2024-03-07T24:00:00Z'],
    ['2024-03-07T23:60:00Z'],
    ['2024-03-07T23:59:60Z'],
    ['2024-03-07T09:30:00+24:00'],
    ['2024-03-07T09:30:00+05:60'],
    ['2024-03-07T09:30:00+5'],
    ['2024-03-07T9:30:00Z'],
    ['2024-3-7T09:30:00Z'],
    ['07.03.2024 09:30'],
    ['2024-03-07T09:30:00.Z'],
    ['2024-03-07T09:30:00.1234567890Z'],
    ['2024-03-07T09:30:00 UTC'],
    ['now'],
    [''],
    [1709803800000],
    [null],
  ])('%j is not a date and time', (input) => {
    expect(normalizeDatetime(input)).toBeUndefined();
  });

  test('a leap day in a leap year is valid', () => {
    expect(normalizeDatetime('2024-02-29T12:00:00Z')).toBe('2024-02-29T12:00:00.000Z');
  });

  // BUG (normalize.ts normalizeDatetime): Date.UTC maps years 0-99 to 1900-1999, so a year
  // below 100 comes back 1900 years late ('0050-...' → '1950-...'), while normalizeDate keeps it.
  test('a year below 100 keeps its value', () => {
    expect(normalizeDatetime('0050-06-01T00:00:00Z')).toBe('0050-06-01T00:00:00.000Z');
  });
});

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
