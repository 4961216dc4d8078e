// Helpers for the pipeline's tests: feed a step from an array, collect what it yields.
// `*.testing.ts` files are left out of the build, like the tests themselves.

export async function* from<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

/** Everything a step yields, and the error it ended with, if any. */
export async function collect<T>(step: AsyncIterable<T>): Promise<{ out: T[]; error: unknown }> {
  const out: T[] = [];
  try {
    for await (const item of step) out.push(item);
  } catch (error) {
    return { out, error };
  }
  return { out, error: undefined };
}
