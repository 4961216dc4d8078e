import { decodeUtf8 } from './decode.js';
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
