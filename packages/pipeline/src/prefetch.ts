/**
 * Runs an async iterable one item ahead of its consumer, so that producing the next item
 * (parsing, hashing: CPU) overlaps with consuming this one (a database round trip: I/O).
 */
export async function* prefetch<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  let next = it.next();
  try {
    for (;;) {
      const current = await next;
      if (current.done === true) return;
      next = it.next();
      // The consumer may stop before awaiting `next`; its rejection is then seen by `return` below.
      next.catch(() => undefined);
      yield current.value;
    }
  } finally {
    await it.return?.();
  }
}
