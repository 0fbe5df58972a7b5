import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCompany } from '../../functions/companies/create-company.js';
import type { ImportJob } from '../../functions/domain/import-job.js';
import { createImport } from '../../functions/imports/create-import.js';
import { ROW_CONCURRENCY } from '../../functions/imports/process-chunk.js';
import { handleImportMessage, type ImportMessage } from '../../functions/imports/worker.js';
import { getServices } from '../../functions/services.js';
import { ownerOfUnique } from '../../functions/store/clients.js';
import { db } from '../../functions/store/dynamo.js';
import { getImport } from '../../functions/store/imports.js';
import { recordDynamoCalls } from '../support/dynamo-calls.js';
import { useImportsBucket } from '../support/imports-bucket.js';

/**
 * A chunk worker's new clients are written at once (`ROW_CONCURRENCY` rows of a batch), not one transaction after
 * another: their numbers come from atomic increments of the company's counter, so they never race on it.
 */
const BUCKET = 'billow-imports-chunk-test';
const sent: ImportMessage[] = [];

useImportsBucket(BUCKET, sent);

/** Client transactions in flight (those that put a client item), and the most seen at once. */
function watchClientTransactions(): { max: () => number; stop: () => void } {
  let inFlight = 0;
  let max = 0;
  const name = 'watchClientTransactions';
  db().middlewareStack.add(
    (next) => async (args) => {
      const items = (args.input as { TransactItems?: Array<{ Put?: { Item?: { entity?: string } } }> }).TransactItems ?? [];
      if (!items.some((item) => item.Put?.Item?.entity === 'client')) return next(args);
      max = Math.max(max, ++inFlight);
      try {
        return await next(args);
      } finally {
        inFlight--;
      }
    },
    { step: 'initialize', name },
  );
  return { max: () => max, stop: () => db().middlewareStack.remove(name) };
}

describe('a chunk of new clients without numbers', () => {
  it('writes its clients at once: transactions overlap, none is cancelled, each row is one client, numbered 1–60', async () => {
    const username = `boss${randomBytes(3).toString('hex')}`;
    const { company } = await createCompany({
      name: 'Acme',
      defaultCurrency: 'USD',
      timeZone: 'UTC',
      staff: { username, email: `${username}@example.com`, password: 'a good password' },
    });
    const rows = Array.from({ length: 60 }, (_, i) => `Co ${i}`);
    const { job } = await createImport({
      companyId: company.id,
      filename: 'clients.csv',
      options: { firstRowIsHeader: true, updateExisting: false, uniqueBy: 'email', dryRun: false },
    });
    const file = Buffer.from(`Company\r\n${rows.join('\r\n')}\r\n`, 'utf8');
    await getServices().importFiles.put(job.objectKey, file, 'text/csv');

    const calls = recordDynamoCalls();
    const watch = watchClientTransactions();
    try {
      await handleImportMessage({
        Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: BUCKET }, object: { key: job.objectKey, size: file.length, sequencer: 'SEQ01' } } }],
      });
      while (sent.length) await handleImportMessage(sent.shift() as ImportMessage);
    } finally {
      calls.stop();
      watch.stop();
    }

    const finished = (await getImport(company.id, job.id)) as ImportJob;
    expect([finished.status, finished.created, finished.failed]).toEqual(['completed', 60, 0]);
    expect(watch.max()).toBeGreaterThan(1);
    expect(watch.max()).toBeLessThanOrEqual(ROW_CONCURRENCY);
    expect(calls.totals().cancelled).toBe(0);
    // No gap and no 61st client: every row took one number, once.
    expect(await ownerOfUnique(company.id, 'number', '60')).toBeDefined();
    expect(await ownerOfUnique(company.id, 'number', '61')).toBeUndefined();
  });
});
