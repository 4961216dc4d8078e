// How Sluice's long-running processes are started: by `npm start`, `npm run start:api`,
// `npm run start:worker` and the benchmark (the Dockerfiles' CMD lines say the same).
// The heap caps keep memory flat and predictable in containers: without one, V8 lets the
// heap grow far past the live data before it collects. Tuned with `npm run bench`.
export const PROCESSES = {
  api: { script: 'apps/api/dist/main.js', nodeArgs: ['--enable-source-maps', '--max-old-space-size=128'] },
  worker: { script: 'apps/worker/dist/main.js', nodeArgs: ['--enable-source-maps', '--max-old-space-size=160'] },
};
