import { prefetch } from './prefetch.js';
import { from } from './steps.testing.js';

/**
 * A hand-written source that counts how often it is pulled and closed. `failAt` makes the
 * pull of that index reject.
 */
function countingSource<T>(items: readonly T[], failAt?: { index: number; error: Error }) {
  const calls = { next: 0, return: 0 };
  const iterable: AsyncIterable<T> = {
    [Symbol.asyncIterator]() {
      let i = 0;
      return {
        next: async (): Promise<IteratorResult<T>> => {
          calls.next++;
          if (failAt !== undefined && i === failAt.index) throw failAt.error;
          if (i < items.length) return { done: false, value: items[i++] as T };
          return { done: true, value: undefined };
        },
        return: async (): Promise<IteratorResult<T>> => {
          calls.return++;
          return { done: true, value: undefined };
        },
      };
    },
  };
  return { iterable, calls };
}

describe('prefetch', () => {
  test('yields every item, in order', async () => {
    const out: number[] = [];
    for await (const n of prefetch(from([1, 2, 3, 4, 5]))) out.push(n);
    expect(out).toStrictEqual([1, 2, 3, 4, 5]);
  });

  test('an empty source yields nothing', async () => {
    const out: unknown[] = [];
    for await (const n of prefetch(from([]))) out.push(n);
    expect(out).toStrictEqual([]);
  });

  test('the source runs exactly one item ahead of the consumer', async () => {
    const { iterable, calls } = countingSource(['a', 'b', 'c']);
    const seen: Array<[string, number]> = [];
    for await (const item of prefetch(iterable)) seen.push([item, calls.next]);
    // When the consumer holds item k (0-based), item k + 1 has been asked for: k + 2 pulls.
    expect(seen).toStrictEqual([
      ['a', 2],
      ['b', 3],
      ['c', 4],
    ]);
  });

  test('the next item is produced while the consumer is still busy with this one', async () => {
    const log: string[] = [];
    async function* source() {
      for (const n of [1, 2]) {
        log.push(`produce ${n}`);
        yield n;
      }
    }
    for await (const n of prefetch(source())) {
      log.push(`consume ${n} start`);
      await Promise.resolve();
      log.push(`consume ${n} end`);
    }
    expect(log.indexOf('produce 2')).toBeLessThan(log.indexOf('consume 1 end'));
    expect(log).toStrictEqual(['produce 1', 'produce 2', 'consume 1 start', 'consume 1 end', 'consume 2 start', 'consume 2 end']);
  });

  test('an early break closes the source', async () => {
    const { iterable, calls } = countingSource([1, 2, 3, 4]);
    const out: number[] = [];
    for await (const n of prefetch(iterable)) {
      out.push(n);
      if (n === 2) break;
    }
    expect(out).toStrictEqual([1, 2]);
    expect(calls.return).toBe(1);
    expect(calls.next).toBe(3);
  });

  test('an early break runs the finally block of a generator source', async () => {
    let closed = false;
    async function* source() {
      try {
        yield 1;
        yield 2;
        yield 3;
      } finally {
        closed = true;
      }
    }
    for await (const n of prefetch(source())) if (n === 1) break;
    expect(closed).toBe(true);
  });

  test('an error from the source reaches the consumer after the items before it', async () => {
    const failure = new Error('boom');
    const { iterable } = countingSource([1, 2, 3], { index: 2, error: failure });
    const out: number[] = [];
    await expect(
      (async () => {
        for await (const n of prefetch(iterable)) out.push(n);
      })(),
    ).rejects.toBe(failure);
    expect(out).toStrictEqual([1, 2]);
  });

  test('a consumer that stops while the prefetched pull is failing sees no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const { iterable, calls } = countingSource([1, 2], { index: 1, error: new Error('late') });
      for await (const n of prefetch(iterable)) if (n === 1) break;
      expect(calls.return).toBe(1);
      // Unhandled rejections are reported once the microtask queue drains.
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(unhandled).toStrictEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
