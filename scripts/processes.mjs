// How Sluice's long-running processes are started: by `npm start`, `npm run start:api`,
// `npm run start:worker` and the benchmark (the Dockerfiles' CMD lines say the same).
// The heap caps keep memory flat and predictable in containers: without one, V8 lets the
// heap grow far past the live data before it collects. The worker's rows live for a few
// batches (about half a second); a 32 MB young generation lets them die young instead of
// being promoted and collected by full mark-compacts, which halves the worker's CPU per row
// (21 s → 9 s of CPU for 1M rows) for ~20 MB of RSS. The API's objects live for one request,
// and V8's default young generation (16 MB semi-spaces, grown to full size while the modules
// load) is 25 MB of RSS it never needs: 4 MB semi-spaces take the idle API from 126 MB to
// 101 MB. Tuned with `npm run bench` and `npm run bench:push`.
export const PROCESSES = {
  api: { script: 'apps/api/dist/main.js', nodeArgs: ['--enable-source-maps', '--max-old-space-size=128', '--max-semi-space-size=4'] },
  worker: { script: 'apps/worker/dist/main.js', nodeArgs: ['--enable-source-maps', '--max-old-space-size=128', '--max-semi-space-size=32'] },
};
