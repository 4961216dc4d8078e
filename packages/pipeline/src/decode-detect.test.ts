import { decodeText, detectEncoding, type DecodeDecision } from './decode.js';
import { from } from './steps.testing.js';

async function decode(chunks: number[][], encoding?: DecodeDecision['encoding']): Promise<{ text: string; decision: DecodeDecision | undefined }> {
  let decision: DecodeDecision | undefined;
  let text = '';
  const bytes = from(chunks.map((c) => Uint8Array.from(c)));
  for await (const t of decodeText(bytes, { encoding, onDecided: (d) => void (decision = d) })) text += t;
  return { text, decision };
}

const utf16le = (s: string) => [...Buffer.from(s, 'utf16le')];
const utf16be = (s: string) => [...Buffer.from(s, 'utf16le').swap16()];

describe('detectEncoding', () => {
  test.each<[string, number[], DecodeDecision]>([
    ['a UTF-8 BOM', [0xef, 0xbb, 0xbf, 0x61], { encoding: 'utf-8', bom: true, by: 'bom' }],
    ['a UTF-16LE BOM', [0xff, 0xfe, 0x61, 0], { encoding: 'utf-16le', bom: true, by: 'bom' }],
    ['a UTF-16BE BOM', [0xfe, 0xff, 0, 0x61], { encoding: 'utf-16be', bom: true, by: 'bom' }],
    ['valid UTF-8', [...Buffer.from('Zoë')], { encoding: 'utf-8', bom: false, by: 'detected' }],
    ['Latin bytes that are not UTF-8', [0x4d, 0xfc, 0x6c, 0x6c, 0x65, 0x72], { encoding: 'windows-1252', bom: false, by: 'detected' }],
    ['UTF-16LE without a BOM', utf16le('id,name\n'), { encoding: 'utf-16le', bom: false, by: 'detected' }],
    ['UTF-16BE without a BOM', utf16be('id,name\n'), { encoding: 'utf-16be', bom: false, by: 'detected' }],
  ])('%s', (_what, bytes, expected) => {
    expect(detectEncoding(Uint8Array.from(bytes), true)).toEqual(expected);
  });

  test('a sample cut inside a UTF-8 sequence is still UTF-8', () => {
    expect(detectEncoding(Uint8Array.from([0x61, 0xc3]), false).encoding).toBe('utf-8');
  });
});

describe('decodeText', () => {
  test('UTF-16LE with a BOM split across chunks mid-character', async () => {
    const bytes = [0xff, 0xfe, ...utf16le('Łódź')];
    expect(await decode([bytes.slice(0, 3), bytes.slice(3)])).toEqual({ text: 'Łódź', decision: { encoding: 'utf-16le', bom: true, by: 'bom' } });
  });

  test('Windows-1252: € is 0x80', async () => {
    expect((await decode([[0x80, 0x20, 0xe4]])).text).toBe('€ ä');
  });

  test('ISO-8859-1 declared: 0x80 is U+0080, not €', async () => {
    expect(await decode([[0x80, 0xe4]], 'iso-8859-1')).toEqual({ text: '\u0080ä', decision: { encoding: 'iso-8859-1', bom: false, by: 'declared' } });
  });

  test('an empty input decides (UTF-8) and yields nothing', async () => {
    expect(await decode([])).toEqual({ text: '', decision: { encoding: 'utf-8', bom: false, by: 'detected' } });
  });
});
