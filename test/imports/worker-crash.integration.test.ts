import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useLocalImportQueue } from '../../functions/adapters/import-queue/local.js';
import { createClient } from '../../functions/clients/create-client.js';
import { createCompany } from '../../functions/companies/create-company.js';
import type { ImportJob } from '../../functions/domain/import-job.js';
import { createImport } from '../../functions/imports/create-import.js';
import { handleImportBatch } from '../../functions/imports/worker.js';
import { getServices } from '../../functions/services.js';
import { listClients } from '../../functions/store/clients.js';
import { getImport, listImportErrors, listImports } from '../../functions/store/imports.js';
import type { Client } from '../../functions/domain/client.js';
import { importQueueEvent, objectCreatedEvent, useImportsBucket } from '../support/imports-bucket.js';
import { installKillSwitch, type DynamoCommand, type KillSwitch } from '../support/kill-switch.js';

/**
 * Crash and replay of the import worker (issue 14): the worker dies at a chosen DynamoDB command — before it is sent,
 * or after it was applied with its answer lost — at every step of an import (the split, a chunk's first row, between
 * rows, the checkpoint, the chunk's end, the import's completion), and the queue delivers the message again (and
 * once more after success, and concurrently). Every run must end with the same exact counts, one client per row
 * imported, each with its login, and the same errors.
 */

const BUCKET = 'billow-imports-crash';
const queue: object[] = [];
useImportsBucket(BUCKET, queue);

/** A queue send that fails once (the worker dies between two chunk messages). */
let failSendAt: number | undefined;
let sends = 0;
beforeAll(() => {
  useLocalImportQueue({
    send: async (body) => {
      if (failSendAt !== undefined && ++sends === failSendAt) {
        failSendAt = undefined;
        throw new Error('The worker was killed while sending its chunk messages.');
      }
      queue.push(body);
    },
  });
});

let kill: KillSwitch;
beforeAll(() => {
  kill = installKillSwitch();
  // Three chunks of the file below.
  process.env.BILLOW_IMPORT_CHUNK_BYTES = '320';
});
afterAll(() => {
  kill.remove();
  delete process.env.BILLOW_IMPORT_CHUNK_BYTES;
});

/**
 * Delivers a message as the queue does: a worker that died (or reported the message failed) gets it again, in a fresh
 * process, after the messages already waiting (its visibility timeout). Returns the deliveries made.
 */
async function deliverUntilDone(first?: object): Promise<number> {
  const waiting: object[] = first ? [first] : [];
  let deliveries = 0;
  while (waiting.length || queue.length) {
    waiting.push(...queue.splice(0));
    const body = waiting.shift() as object;
    deliveries++;
    if (deliveries > 100) throw new Error('The import never settled.');
    const result = await handleImportBatch(importQueueEvent(body));
    if (kill.killed) kill.revive();
    if (result.batchItemFailures.length) waiting.push(body);
  }
  return deliveries;
}

/**
 * 45 data rows: every fourth one with an email (so a login), the others without (nothing but the row markers keeps a
 * row run twice from making a second client); row 12 fails (a bad email), row 22 repeats row 6's email (a duplicate
 * within the file), row 30's email is an existing client's (updated, as updateExisting is on).
 */
function fileOf(tag: string): string {
  const rows = Array.from({ length: 45 }, (_, i) => `Co ${tag} ${i},${i % 4 === 0 ? `row${i}.${tag}@example.com` : ''}`);
  rows[10] = `Bad ${tag},not-an-email`;
  rows[20] = `Again ${tag},row4.${tag}@example.com`;
  return `Company,Email\r\n${rows.join('\r\n')}\r\n`;
}
const EXPECTED = { status: 'completed', totalRows: 45, processedRows: 45, created: 42, updated: 1, skipped: 0, failed: 2 };

async function newCompany(): Promise<string> {
  const username = `boss${randomBytes(3).toString('hex')}`;
  const { company } = await createCompany({
    name: 'Crash Co',
    defaultCurrency: 'USD',
    timeZone: 'UTC',
    staff: { username, email: `${username}@example.com`, password: 'a good password' },
  });
  return company.id;
}

async function allClients(companyId: string): Promise<Client[]> {
  const clients: Client[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await listClients(companyId, { sort: 'number', descending: false, limit: 100, startKey });
    clients.push(...page.items);
    startKey = page.lastKey;
  } while (startKey);
  return clients;
}

const counts = (job: ImportJob) => ({
  status: job.status,
  totalRows: job.totalRows,
  processedRows: job.processedRows,
  created: job.created,
  updated: job.updated,
  skipped: job.skipped,
  failed: job.failed,
});

/**
 * One import of the file, the worker killed where `crash` says (nothing when absent) — while it splits the file, or
 * once the chunks run — and every message delivered until the import settles; what it ended with.
 */
async function importWithCrash(crash?: (arm: KillSwitch['arm']) => void, phase: 'split' | 'chunks' = 'split') {
  const companyId = await newCompany();
  const tag = randomBytes(3).toString('hex');
  await createClient(companyId, { company: 'Already here', email: `row28.${tag}@example.com` }, null);
  const { job } = await createImport({
    companyId,
    filename: 'clients.csv',
    options: { firstRowIsHeader: true, updateExisting: true, uniqueBy: 'email', dryRun: false },
  });
  const file = Buffer.from(fileOf(tag), 'utf8');
  await getServices().importFiles.put(job.objectKey, file, 'text/csv');
  const event = objectCreatedEvent(BUCKET, job.objectKey, file.length, `SEQ-${tag}`);
  if (phase === 'chunks') expect((await handleImportBatch(importQueueEvent(event))).batchItemFailures).toEqual([]);
  crash?.(kill.arm);
  const deliveries = await deliverUntilDone(phase === 'split' ? event : undefined);
  // S3 and SQS deliver at least once: the event and every chunk message once more, the import long done.
  await deliverUntilDone(event);
  for (let chunk = 0; chunk < 3; chunk++) await deliverUntilDone({ type: 'import-chunk', companyId, importId: job.id, chunk });
  const done = (await getImport(companyId, job.id)) as ImportJob;
  return { companyId, tag, job: done, deliveries };
}

/** Exact counts, one client per created row (and the existing one), each with its login; the same two errors. */
async function expectImportedOnce(result: Awaited<ReturnType<typeof importWithCrash>>) {
  const { companyId, tag, job } = result;
  expect(counts(job)).toEqual(EXPECTED);
  expect(job.plan?.chunkCount).toBe(3);
  const clients = await allClients(companyId);
  expect(clients).toHaveLength(43);
  expect(new Set(clients.map((c) => c.company)).size).toBe(43);
  // A number taken by a write the crash stopped is not used again (a gap), but no two clients share one.
  expect(new Set(clients.map((c) => c.number)).size).toBe(43);
  const withEmail = clients.filter((c) => c.email);
  expect(new Set(withEmail.map((c) => c.email)).size).toBe(withEmail.length);
  expect(withEmail).toHaveLength(11);
  // Every client with an email has its login, as POST /v1/clients makes it.
  for (const client of withEmail) {
    expect(client.userId, `${client.email} has no login`).not.toBeNull();
    await expect(getServices().identity.issueToken(companyId, client.email as string)).resolves.toBeDefined();
  }
  expect(clients.find((c) => c.email === `row28.${tag}@example.com`)?.company).toBe(`Co ${tag} 28`);
  const errors = (await listImportErrors(companyId, job.id, 100)).items.map((e) => [e.row, e.column]);
  expect(errors).toEqual([
    [12, 'Email'],
    [22, 'Email'],
  ]);
}

const isRowWrite = (c: DynamoCommand) => c.command === 'TransactWriteItemsCommand' && c.text.includes('"importRow"');
const isCheckpoint = (c: DynamoCommand) => c.command === 'TransactWriteItemsCommand' && c.text.includes('#checkpoint');
const isChunkEnd = (c: DynamoCommand) => c.command === 'TransactWriteItemsCommand' && c.text.includes('finishedChunks');
const isCompletion = (c: DynamoCommand) => c.command === 'UpdateItemCommand' && c.text.includes(':completed');
const isPlan = (c: DynamoCommand) => c.command === 'UpdateItemCommand' && c.text.includes('#plan');
const isChunkItem = (c: DynamoCommand) => c.command === 'PutItemCommand' && c.text.includes('"importChunk"');
const isRunning = (c: DynamoCommand) => c.command === 'UpdateItemCommand' && c.text.includes(':running') && c.text.includes('#status = :queued');
/** The identity stand-in's user put: the login of a row's client. */
const isLogin = (c: DynamoCommand) => c.command === 'PutItemCommand' && c.text.includes('passwordHash');
/** The link of a login to its client. */
const isLoginLink = (c: DynamoCommand) => c.command === 'UpdateItemCommand' && c.text.includes('userId');

/** Where the worker dies: which command, the how-manyeth of its kind, before it or after it. */
const SPLIT_CRASH_POINTS: Array<[string, (c: DynamoCommand) => boolean, number, 'before' | 'after']> = [
  ['the split: a duplicate row recorded, the answer lost', isRowWrite, 1, 'after'],
  ['the split: the plan saved, its answer lost', isPlan, 1, 'after'],
  ['the split: between two chunk items', isChunkItem, 2, 'before'],
  ['the split: every chunk sent, before the job is running', isRunning, 1, 'before'],
];
const CHUNK_CRASH_POINTS: Array<[string, (c: DynamoCommand) => boolean, number, 'before' | 'after']> = [
  ['a chunk: before its first row write', isRowWrite, 1, 'before'],
  ['a chunk: its first row written, the answer lost', isRowWrite, 1, 'after'],
  ['mid-chunk: before the 20th row write', isRowWrite, 20, 'before'],
  ['mid-chunk: the 20th row written, the answer lost', isRowWrite, 20, 'after'],
  ['mid-chunk: a row written, before its login', isLogin, 5, 'before'],
  ['mid-chunk: a row and its login written, before the link', isLoginLink, 5, 'before'],
  ['the rows written, before the checkpoint', isCheckpoint, 1, 'before'],
  ['the checkpoint written, the answer lost', isCheckpoint, 1, 'after'],
  ['the rows recorded, before the chunk’s end', isChunkEnd, 1, 'before'],
  ['the chunk’s end written, the answer lost', isChunkEnd, 1, 'after'],
  ['the last chunk ended, before the import completes', isChunkEnd, 3, 'after'],
  ['the import completed, the answer lost', isCompletion, 1, 'after'],
];

describe('an import worker killed and its message delivered again', () => {
  it('without a crash: the expected figures', async () => {
    const result = await importWithCrash();
    await expectImportedOnce(result);
  });

  for (const [phase, points] of [
    ['split', SPLIT_CRASH_POINTS],
    ['chunks', CHUNK_CRASH_POINTS],
  ] as const) {
    for (const [where, when, nth, point] of points) {
      it(`killed at ${where} (${point}): exact counts, no duplicate client`, async () => {
        const before = kill.kills;
        const result = await importWithCrash((arm) => arm(when, { nth, point }), phase);
        expect(kill.kills - before, 'the worker was never killed').toBe(1);
        await expectImportedOnce(result);
      });
    }
  }

  it('killed between two chunk messages (the queue send failed): the event again sends the rest', async () => {
    sends = 0;
    failSendAt = 2;
    const result = await importWithCrash();
    expect(failSendAt).toBeUndefined();
    await expectImportedOnce(result);
  });
});

describe('redelivery at once', () => {
  it('a file dropped into the bucket, its event delivered three times at once, is one import', async () => {
    const companyId = await newCompany();
    const tag = randomBytes(3).toString('hex');
    await createClient(companyId, { company: 'Already here', email: `row28.${tag}@example.com` }, null);
    const key = `imports/${companyId}/dropped ${tag}.csv`;
    const file = Buffer.from(fileOf(tag), 'utf8');
    await getServices().importFiles.put(key, file, 'text/csv');
    const event = objectCreatedEvent(BUCKET, key, file.length, `SEQ-drop-${tag}`);
    const outcomes = await Promise.all([1, 2, 3].map(() => handleImportBatch(importQueueEvent(event))));
    for (const r of outcomes) if (r.batchItemFailures.length) await deliverUntilDone(event);
    await deliverUntilDone();
    const { items } = await listImports(companyId, 10);
    expect(items).toHaveLength(1);
    // Dropped files take the defaults: new clients only, so the existing client's row is skipped, not updated.
    expect(counts(items[0])).toEqual({ ...EXPECTED, created: 42, updated: 0, skipped: 1 });
    const clients = await allClients(companyId);
    expect(clients).toHaveLength(43);
    expect(new Set(clients.map((c) => c.company)).size).toBe(43);
  });

  it('the same S3 event and the same chunk messages delivered concurrently import once', async () => {
    const companyId = await newCompany();
    const tag = randomBytes(3).toString('hex');
    await createClient(companyId, { company: 'Already here', email: `row28.${tag}@example.com` }, null);
    const { job } = await createImport({
      companyId,
      filename: 'clients.csv',
      options: { firstRowIsHeader: true, updateExisting: true, uniqueBy: 'email', dryRun: false },
    });
    const file = Buffer.from(fileOf(tag), 'utf8');
    await getServices().importFiles.put(job.objectKey, file, 'text/csv');
    const event = objectCreatedEvent(BUCKET, job.objectKey, file.length, `SEQ-${tag}`);
    const outcomes = await Promise.all([1, 2, 3].map(() => handleImportBatch(importQueueEvent(event))));
    const chunkMessages = queue.splice(0);
    // Each event delivery that got past `queued` sent the chunks; the first three distinct ones are the plan's.
    expect(chunkMessages.length).toBeGreaterThanOrEqual(3);
    // Every chunk message twice, all at once; a delivery that lost a race is failed and delivered again.
    const doubled = [...chunkMessages, ...chunkMessages];
    const results = await Promise.all(doubled.map((body) => handleImportBatch(importQueueEvent(body))));
    for (const [i, r] of results.entries()) if (r.batchItemFailures.length) await deliverUntilDone(doubled[i]);
    for (const r of outcomes) if (r.batchItemFailures.length) await deliverUntilDone(event);
    for (const body of queue.splice(0)) await deliverUntilDone(body);
    await expectImportedOnce({ companyId, tag, job: (await getImport(companyId, job.id)) as ImportJob, deliveries: 0 });
  });
});
