import { decodeText, decodeUtf8, detectEncoding, type DecodeDecision } from './decode.js';
import { from } from './steps.testing.js';

async function decode(chunks: readonly number[][]): Promise<string[]> {
  const out: string[] = [];
  for await (const text of decodeUtf8(from(chunks.map((c) => Uint8Array.from(c))))) out.push(text);
  return out;
}

const bytes = (text: string): number[] => [...new TextEncoder().encode(text)];

describe('decodeUtf8', () => {
  test('decodes UTF-8 and drops a leading BOM', async () => {
    expect((await decode([[0xef, 0xbb, 0xbf, ...bytes('a,é\n')]])).join('')).toBe('a,é\n');
  });

  test('a BOM later in the text is kept', async () => {
    expect((await decode([bytes('a\ufeffb')])).join('')).toBe('a\ufeffb');
  });

  test('a character split across chunks at every byte is decoded whole', async () => {
    const all = bytes('x€😀y');
    for (let i = 0; i <= all.length; i++) {
      expect((await decode([all.slice(0, i), all.slice(i)])).join('')).toBe('x€😀y');
    }
  });

  test('a BOM split across chunks is still dropped', async () => {
    expect((await decode([[0xef], [0xbb], [0xbf, ...bytes('id')]])).join('')).toBe('id');
  });

  test('bytes that are not UTF-8 become U+FFFD instead of failing', async () => {
    expect((await decode([[0x61, 0xff, 0x62]])).join('')).toBe('a\ufffdb');
  });

  test('a sequence cut off at the end of input becomes U+FFFD', async () => {
    expect((await decode([[0x61, 0xe2, 0x82]])).join('')).toBe('a\ufffd');
  });

  test('chunks that decode to nothing yet are not yielded as empty strings', async () => {
    expect(await decode([[0xe2], [0x82], [0xac]])).toStrictEqual(['€']);
  });

  test('an aborted signal stops the step', async () => {
    const run = async () => {
      for await (const _ of decodeUtf8(from([Uint8Array.from([0x61])]), { signal: AbortSignal.abort() })) {
        // nothing: the step throws before it yields
      }
    };
    await expect(run()).rejects.toMatchObject({ name: 'AbortError' });
  });
});

async function decodeWith(
  chunks: number[][],
  encoding?: DecodeDecision['encoding'],
): Promise<{ text: string; decision: DecodeDecision | undefined }> {
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
    expect(await decodeWith([bytes.slice(0, 3), bytes.slice(3)])).toEqual({
      text: 'Łódź',
      decision: { encoding: 'utf-16le', bom: true, by: 'bom' },
    });
  });

  test('Windows-1252: € is 0x80', async () => {
    expect((await decodeWith([[0x80, 0x20, 0xe4]])).text).toBe('€ ä');
  });

  test('ISO-8859-1 declared: 0x80 is U+0080, not €', async () => {
    expect(await decodeWith([[0x80, 0xe4]], 'iso-8859-1')).toEqual({
      text: '\u0080ä',
      decision: { encoding: 'iso-8859-1', bom: false, by: 'declared' },
    });
  });

  test('an empty input decides (UTF-8) and yields nothing', async () => {
    expect(await decodeWith([])).toEqual({ text: '', decision: { encoding: 'utf-8', bom: false, by: 'detected' } });
  });
});
