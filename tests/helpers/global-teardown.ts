export default async function globalTeardown(): Promise<void> {
  await Promise.all((globalThis.__SLUICE_CONTAINERS__ ?? []).map((c) => c.stop()));
}
