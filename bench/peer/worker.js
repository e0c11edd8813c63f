// A BullMQ worker delivering webhooks, as a Node team writes one: each job (an event) becomes a
// Standard Webhooks POST, signed with node:crypto and sent through an undici keep-alive Pool (less
// CPU a request than node:http's keep-alive Agent, so the faster of the two); a non-2xx answer (or
// a network error) throws, so BullMQ retries the job with the attempts and backoff enqueue.js gave
// it. No delivery log. One process per core (bench.py starts them).
// Env: REDIS_URL, QUEUE (default "webhooks"), WEBHOOK_URL, WEBHOOK_SECRET (whsec_…),
// CONCURRENCY (jobs in flight per process, default 64).
import { createHmac } from 'node:crypto';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { Pool } from 'undici';

const url = new URL(process.env.WEBHOOK_URL);
const key = Buffer.from(process.env.WEBHOOK_SECRET.replace(/^whsec_/, ''), 'base64');
const concurrency = Number(process.env.CONCURRENCY ?? 64);
const pool = new Pool(url.origin, { connections: concurrency, headersTimeout: 30_000, bodyTimeout: 30_000 });

// POSTs `body`; returns the status once the response is read.
async function post(body, headers) {
  const res = await pool.request({ path: url.pathname + url.search, method: 'POST', headers, body });
  await res.body.dump();
  return res.statusCode;
}

async function deliver(job) {
  const { id, type, timestamp, data } = job.data;
  const body = JSON.stringify({ id, type, timestamp, data });
  const now = String(Math.floor(Date.now() / 1000));
  const signature = createHmac('sha256', key).update(`${id}.${now}.${body}`).digest('base64');
  const status = await post(body, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'webhook-id': id,
    'webhook-timestamp': now,
    'webhook-signature': `v1,${signature}`,
  });
  if (status < 200 || status > 299) throw new Error(`HTTP ${status}`);
}

const connection = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const worker = new Worker(process.env.QUEUE ?? 'webhooks', deliver, { connection, concurrency });
worker.on('error', (err) => console.error(`worker error: ${err.message}`));
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, async () => {
    await worker.close();
    await Promise.all([connection.quit(), pool.close()]);
    process.exit(0);
  });
}
await worker.waitUntilReady();
console.log(`worker ${process.pid} ready, concurrency ${concurrency}`);
