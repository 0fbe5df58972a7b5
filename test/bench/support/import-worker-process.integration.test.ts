import { randomBytes } from 'node:crypto';
import type { SQSEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { startWorkerProcess, type WorkerProcess } from '../../../bench/support/import-worker-process.js';
import { createCompany } from '../../../functions/companies/create-company.js';
import { createImport } from '../../../functions/imports/create-import.js';
import { getServices } from '../../../functions/services.js';
import { getImport } from '../../../functions/store/imports.js';
import { useImportsBucket } from '../../support/imports-bucket.js';

/**
 * The import benchmark's worker process (bench/support/import-worker.ts): handed the bucket's event, it imports the
 * file in its own process, chunk messages included, and reports its peak RSS and the DynamoDB work it did.
 */

const BUCKET = 'billow-imports-bench-test';
useImportsBucket(BUCKET, []);

let worker: WorkerProcess | undefined;
afterEach(() => {
  worker?.stop();
  worker = undefined;
  delete process.env.BILLOW_IMPORT_CHUNK_BYTES;
});

function s3Event(key: string, size: number): SQSEvent {
  const body = {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        eventName: 'ObjectCreated:Put',
        s3: { bucket: { name: BUCKET, arn: `arn:aws:s3:::${BUCKET}` }, object: { key, size, eTag: 'etag', sequencer: `SEQ${randomBytes(4).toString('hex')}` } },
      },
    ],
  };
  return {
    Records: [
      {
        messageId: `m${randomBytes(4).toString('hex')}`,
        receiptHandle: 'r',
        body: JSON.stringify(body),
        attributes: {} as never,
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:imports',
        awsRegion: 'us-east-1',
      },
    ],
  };
}

async function newImport(rows: number) {
  const username = `boss${randomBytes(3).toString('hex')}`;
  const { company } = await createCompany({
    name: 'Bench Co',
    defaultCurrency: 'USD',
    timeZone: 'UTC',
    staff: { username, email: `${username}@example.com`, password: 'a good password' },
  });
  const { job } = await createImport({
    companyId: company.id,
    filename: 'clients.csv',
    options: { firstRowIsHeader: true, updateExisting: false, uniqueBy: 'number', dryRun: false },
  });
  const lines = ['Client Number,First Name,Last Name,City'];
  for (let i = 0; i < rows; i++) lines.push(`${500 + i},Ada,Family${i},Springfield`);
  const file = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
  await getServices().importFiles.put(job.objectKey, file, 'text/csv');
  return { job, event: s3Event(job.objectKey, file.length) };
}

describe('the import worker process of bench:imports', () => {
  it('imports the file in its own process, its chunks too, and reports its peak RSS and DynamoDB work', async () => {
    // Three chunks, run two at once by the process's own queue.
    process.env.BILLOW_IMPORT_CHUNK_BYTES = '400';
    const { job, event } = await newImport(40);
    worker = await startWorkerProcess(2);
    await expect(worker.invoke(event)).resolves.toEqual({ batchItemFailures: [] });
    const report = await worker.report();
    const done = await getImport(job.companyId, job.id);
    expect(done).toMatchObject({ status: 'completed', created: 40, failed: 0 });
    expect(done?.plan?.chunkCount).toBeGreaterThan(1);
    expect(report.baselineRss).toBeGreaterThan(0);
    expect(report.peakRss).toBeGreaterThanOrEqual(report.baselineRss);
    expect(report.liveAfterGc).toBeGreaterThan(0);
    expect(report.liveAfterGc).toBeLessThan(report.peakRss);
    // Each row is at least its create transaction.
    expect(report.dynamo.calls).toBeGreaterThanOrEqual(40);
    expect(report.dynamo.writeCapacity).toBeGreaterThan(0);
  }, 120_000);

  it('fails what waits on a worker process that died, instead of waiting for ever', async () => {
    const { event } = await newImport(1);
    worker = await startWorkerProcess(1);
    worker.stop();
    await new Promise((resolve) => setTimeout(resolve, 500));
    await expect(worker.invoke(event)).rejects.toThrow(/ended/);
  }, 60_000);
});
