import { sniffDelimiter } from './sniff-delimiter.js';

describe('sniffDelimiter', () => {
  test.each([
    ['a,b,c\n1,2,3\n', ','],
    ['a;b;c\n1;2,5;3\n4;5,5;6\n', ';'],
    ['a\tb\n1,5\t2\n', '\t'],
    ['a|b|c\n1|x, y|z\n', '|'],
    ['only\none\ncolumn\n', ','],
    ['', ','],
  ])('%j → %j', (sample, expected) => {
    expect(sniffDelimiter(sample)).toBe(expected);
  });

  test('delimiters inside quotes do not count, line breaks inside quotes neither', () => {
    expect(sniffDelimiter('name;note\n"Smith, John";"a,b,c\nd,e"\n"Doe, Jane";x\n')).toBe(';');
  });

  test('a candidate whose count agrees on every line beats a more frequent one that does not', () => {
    expect(sniffDelimiter('a;b,c,d\n1;2\n3;4\n5;6\n')).toBe(';');
  });

  test('the cut-off last line of an incomplete sample is not counted', () => {
    expect(sniffDelimiter('a;b\n1;2\n3', false)).toBe(';');
  });
});
