import { createServer, type IncomingMessage } from 'node:http';
import { gunzipSync } from 'node:zlib';

/** One PutMetricData call as the fake received it. */
export interface PutMetricData {
  target: string;
  body: {
    Namespace: string;
    MetricData: { MetricName: string; Dimensions: { Name: string; Value: string }[]; Value: number; Unit: string; Timestamp: number }[];
  };
}

export interface FakeCloudWatch {
  endpoint: string;
  received: PutMetricData[];
  /** Resolves with the call after the `count` received so far (the next one by default). */
  nextCall(count?: number): Promise<PutMetricData>;
  /** Answers the next `n` calls with a 500, as CloudWatch does when it is having a bad day. */
  failNext(n: number): void;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
}

/**
 * A CloudWatch endpoint on a loopback port that speaks the AWS JSON 1.0 protocol the SDK
 * uses for PutMetricData, and keeps what it is sent.
 */
export async function startFakeCloudWatch(): Promise<FakeCloudWatch> {
  const received: PutMetricData[] = [];
  const waiters: { count: number; resolve: (call: PutMetricData) => void }[] = [];
  let failures = 0;
  const server = createServer((req, res) => {
    void readBody(req).then((raw) => {
      if (failures > 0) {
        failures -= 1;
        res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ __type: 'InternalServiceFault', message: 'fake outage' }));
        return;
      }
      const call = { target: String(req.headers['x-amz-target']), body: JSON.parse(raw.toString('utf8')) as PutMetricData['body'] };
      received.push(call);
      for (const waiter of waiters.filter((w) => received.length > w.count)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(received[waiter.count]!);
      }
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    received,
    nextCall: (count = received.length) =>
      count < received.length ? Promise.resolve(received[count]!) : new Promise((resolve) => waiters.push({ count, resolve })),
    failNext: (n) => {
      failures = n;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The figures of one call, by metric name, with the dimensions they were sent with. */
export function figures(call: PutMetricData): Record<string, { value: number; dimensions: Record<string, string>; unit: string }> {
  return Object.fromEntries(
    call.body.MetricData.map((m) => [
      m.MetricName,
      { value: m.Value, unit: m.Unit, dimensions: Object.fromEntries(m.Dimensions.map((d) => [d.Name, d.Value])) },
    ]),
  );
}
