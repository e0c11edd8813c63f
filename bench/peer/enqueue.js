// Enqueues the bench's events as BullMQ jobs, in bulk, before any worker runs (hookstream's events
// are published to Kafka ahead the same way). Reads NDJSON on stdin, the lines bench.py feeds
// hookstream-produce: {"tenant":…,"type":…,"data":{…},"id"?:…}. An event without an id gets a new
// evt_… id, and its timestamp is taken here, as hookstream-produce does at publish.
// Env: REDIS_URL, QUEUE (default "webhooks"), CHUNK (jobs per addBulk, default 1000).
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

const connection = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const queue = new Queue(process.env.QUEUE ?? 'webhooks', {
  connection,
  // 10 attempts, the first retry after 5 s (hookstream's defaults); a completed job is deleted,
  // a job failed for good stays in the failed set.
  defaultJobOptions: { attempts: 10, backoff: { type: 'exponential', delay: 5000 }, removeOnComplete: true },
});
const chunkSize = Number(process.env.CHUNK ?? 1000);

const started = Date.now();
let chunk = [];
let added = 0;
const flush = async () => {
  await queue.addBulk(chunk);
  added += chunk.length;
  chunk = [];
};
for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (!line.trim()) continue;
  const { tenant, type, data, id = `evt_${randomUUID().replaceAll('-', '')}` } = JSON.parse(line);
  chunk.push({ name: type, data: { id, tenant, type, timestamp: new Date().toISOString(), data } });
  if (chunk.length >= chunkSize) await flush();
}
if (chunk.length) await flush();
console.log(`enqueued ${added} jobs in ${((Date.now() - started) / 1000).toFixed(1)} s`);
await queue.close();
await connection.quit();
