import { randomBytes } from 'node:crypto';
import iconv from 'iconv-lite';
import { afterAll, describe, expect, it } from 'vitest';
import { createClient } from '../../functions/clients/create-client.js';
import { createCompany } from '../../functions/companies/create-company.js';
import { createGroup } from '../../functions/companies/create-group.js';
import type { ImportJob, ImportOptions } from '../../functions/domain/import-job.js';
import { createImport } from '../../functions/imports/create-import.js';
import { importErrorsCsv } from '../../functions/imports/import-errors.js';
import { processChunk } from '../../functions/imports/process-chunk.js';
import type { ChunkMessage } from '../../functions/imports/start-import.js';
import { handleImportBatch } from '../../functions/imports/worker.js';
import { getServices, overrideServices } from '../../functions/services.js';
import type { IdentityProvider } from '../../functions/adapters/identity/port.js';
import { ConflictError, ThrottledError, type ValidationError } from '../../functions/domain/errors.js';
import { getClient, ownerOfUnique } from '../../functions/store/clients.js';
import { getImport, listImportErrors, listImports } from '../../functions/store/imports.js';
import { parseCsv } from '../../functions/imports/parse-csv.js';
import { importQueueEvent, objectCreatedEvent, useImportsBucket } from '../support/imports-bucket.js';

/**
 * The import worker end to end below HTTP: files put into the imports bucket (s3rver), the S3 event and the chunk
 * messages handed to the worker's SQS handler by a queue the test drains itself (so a message can be delivered twice,
 * or a worker stopped mid-chunk), against DynamoDB Local and the local identity provider.
 */

const BUCKET = 'billow-imports-test';
const sent: object[] = [];

useImportsBucket(BUCKET, sent);
afterAll(() => {
  delete process.env.BILLOW_IMPORT_CHUNK_BYTES;
});

async function newCompany(): Promise<string> {
  const username = `boss${randomBytes(3).toString('hex')}`;
  const { company } = await createCompany({
    name: 'Acme',
    defaultCurrency: 'USD',
    timeZone: 'UTC',
    staff: { username, email: `${username}@example.com`, password: 'a good password' },
  });
  return company.id;
}

async function deliver(body: object): Promise<void> {
  const result = await handleImportBatch(importQueueEvent(body));
  expect(result.batchItemFailures).toEqual([]);
}

/** Delivers every message sent so far, and those they send, in order. */
async function drain(): Promise<void> {
  while (sent.length) await deliver(sent.shift() as object);
}

let sequence = 0;
/** Puts the file at the key and delivers its object-created event; returns the event, to deliver again. */
async function upload(key: string, file: Buffer | string): Promise<object> {
  const body = Buffer.isBuffer(file) ? file : Buffer.from(file, 'utf8');
  await getServices().importFiles.put(key, body, 'text/csv');
  const event = objectCreatedEvent(BUCKET, key, body.length, `SEQ${String(++sequence).padStart(8, '0')}`);
  await deliver(event);
  return event;
}

const OPTIONS: ImportOptions = { firstRowIsHeader: true, updateExisting: false, uniqueBy: 'email', dryRun: false };

async function runImport(companyId: string, file: Buffer | string, options: Partial<ImportOptions> = {}): Promise<ImportJob> {
  const { job } = await createImport({ companyId, filename: 'clients.csv', options: { ...OPTIONS, ...options } });
  await upload(job.objectKey, file);
  await drain();
  return (await getImport(companyId, job.id)) as ImportJob;
}

async function errorsOf(job: ImportJob) {
  return (await listImportErrors(job.companyId, job.id, 100)).items.map(({ row, column, value, message }) => ({ row, column, value, message }));
}

async function clientByEmail(companyId: string, email: string) {
  const id = await ownerOfUnique(companyId, 'email', email);
  return id ? getClient(companyId, id) : undefined;
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

const SEED_004 = [
  'Client Number,Email,Business Name,First Name,Last Name,Telephone,Street Address 1,Country,Notes',
  '101,ann@example.com,Ann Co,Ann,Lee,+1 555 0101,1 Main St,US,vip',
  '102,bob@example.com,Bob Ltd,,,+44 20 7946 0000,2 High St,United Kingdom,',
  '103,not-an-email,Carl Inc,Carl,Diaz,,,FR,',
].join('\r\n');

describe('a seed-004-shaped file', () => {
  it('imports the good rows, fails the bad one with its row and column, reports the unmapped column, and writes the error report', async () => {
    const companyId = await newCompany();
    const job = await runImport(companyId, SEED_004);
    expect(counts(job)).toEqual({ status: 'completed', totalRows: 3, processedRows: 3, created: 2, updated: 0, skipped: 0, failed: 1 });
    expect(job.unmappedColumns).toEqual(['Notes']);
    expect(job.finishedAt).not.toBeNull();
    const ann = await clientByEmail(companyId, 'ann@example.com');
    expect(ann).toMatchObject({ number: 101, company: 'Ann Co', firstName: 'Ann', lastName: 'Lee', address1: '1 Main St', country: 'US' });
    expect(ann?.phones).toEqual([{ type: 'phone', location: 'work', number: '+1 555 0101' }]);
    expect(await clientByEmail(companyId, 'bob@example.com')).toMatchObject({ number: 102, company: 'Bob Ltd', country: 'GB', firstName: null });
    expect(await errorsOf(job)).toEqual([{ row: 4, column: 'Email', value: 'not-an-email', message: expect.any(String) }]);
    expect(job.errorReportKey).toBe(`reports/${companyId}/${job.id}/errors.csv`);
    const report: string[][] = [];
    for await (const record of parseCsv(await getServices().importFiles.read(job.errorReportKey as string))) report.push(record.cells);
    expect(report[0]).toEqual([
      'Client Number',
      'Email',
      'Business Name',
      'First Name',
      'Last Name',
      'Telephone',
      'Street Address 1',
      'Country',
      'Notes',
      'error',
    ]);
    expect(report.slice(1).map((r) => r.slice(0, 9))).toEqual([['103', 'not-an-email', 'Carl Inc', 'Carl', 'Diaz', '', '', 'FR', '']]);
    expect(report[1][9]).toMatch(/^Email "not-an-email": /);
    const chunks: Buffer[] = [];
    for await (const c of await getServices().importFiles.read(job.errorReportKey as string)) chunks.push(Buffer.from(c));
    const reportText = Buffer.concat(chunks).toString('utf8');
    expect(await importErrorsCsv(companyId, job.id)).toEqual({ text: reportText });
    // Past the inline limit, a link to the report in the bucket.
    const linked = await importErrorsCsv(companyId, job.id, 10);
    if (!('url' in linked)) throw new Error('expected a link');
    const download = await fetch(linked.url);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).toString('utf8')).toBe(reportText);
  });
});

describe('creating an import', () => {
  it('refuses a mapping with an unknown field or without the required ones, naming mapping.<field>', async () => {
    const companyId = await newCompany();
    const refused = (mapping: Record<string, string | number>) =>
      createImport({ companyId, filename: 'x.csv', options: { ...OPTIONS, mapping } }).then(
        () => undefined,
        (error: ValidationError) => error.errors.map((e) => e.path),
      );
    expect(await refused({ company: 'Company', fax2: 'Fax' })).toEqual(['mapping.fax2']);
    expect(await refused({ email: 0 })).toEqual(['mapping.company', 'mapping.firstName', 'mapping.lastName']);
    expect(await refused({ company: -1 })).toContain('mapping.company');
    const headerless = (mapping?: Record<string, string | number>) =>
      createImport({ companyId, filename: 'x.csv', options: { ...OPTIONS, firstRowIsHeader: false, ...(mapping ? { mapping } : {}) } }).then(
        () => undefined,
        (error: ValidationError) => error.errors.map((e) => e.path),
      );
    expect(await headerless()).toEqual(['mapping']);
    expect(await headerless({ company: 'Company', email: 1 })).toEqual(['mapping.company']);
    expect((await listImports(companyId, 10)).items).toEqual([]);
  });

  it('records the job awaiting its upload, with a presigned PUT URL for its key', async () => {
    const companyId = await newCompany();
    const { job, uploadUrl } = await createImport({ companyId, filename: 'June clients.csv', options: OPTIONS });
    expect(job).toMatchObject({ status: 'awaiting_upload', source: 'api', filename: 'June clients.csv', totalRows: null, startedAt: null });
    expect(job.objectKey).toBe(`imports/${companyId}/${job.id}/June clients.csv`);
    const put = await fetch(uploadUrl, { method: 'PUT', headers: { 'Content-Type': 'text/csv' }, body: 'Company\r\nA\r\n' });
    expect(put.status).toBe(200);
    expect(await getServices().importFiles.head(job.objectKey)).toEqual({ size: 12 });
  });
});

describe('formats', () => {
  it('a semicolon file without a header, mapped by index (row numbers start at 1)', async () => {
    const companyId = await newCompany();
    const file = 'x;Lee;Ann;ann2@example.com\ny;;;nobody@example.com\n';
    const job = await runImport(companyId, file, { firstRowIsHeader: false, mapping: { lastName: 1, firstName: 2, email: 3 } });
    expect(counts(job)).toMatchObject({ status: 'completed', totalRows: 2, created: 1, failed: 1 });
    expect(job.unmappedColumns).toEqual(['0']);
    expect(await clientByEmail(companyId, 'ann2@example.com')).toMatchObject({ firstName: 'Ann', lastName: 'Lee' });
    expect((await errorsOf(job)).map((e) => e.row)).toEqual([2]);
  });

  it('a BOM file with quoted line breaks and bad rows: 1-based row numbers counting the header', async () => {
    const companyId = await newCompany();
    const file = `\uFEFFCompany,Email,City\r\n"Two\r\nLines Ltd",two@example.com,"Paris"\r\nBad Co,bad@,Rome\r\n"Quote ""Q"" Co",q@example.com,Oslo\r\n,,\r\n,,Nowhere\r\n`;
    const job = await runImport(companyId, file);
    expect(counts(job)).toMatchObject({ status: 'completed', totalRows: 4, created: 2, failed: 2 });
    expect(job.unmappedColumns).toEqual([]);
    expect(await clientByEmail(companyId, 'two@example.com')).toMatchObject({ company: 'Two\r\nLines Ltd', city: 'Paris' });
    expect(await clientByEmail(companyId, 'q@example.com')).toMatchObject({ company: 'Quote "Q" Co' });
    const errors = await errorsOf(job);
    expect(errors.map((e) => e.row)).toEqual([3, 6]);
    expect(errors[0]).toMatchObject({ column: 'Email', value: 'bad@' });
  });

  it('a Windows-1252 file with accented names', async () => {
    const companyId = await newCompany();
    const file = iconv.encode('First Name,Last Name,Email\r\nRenée,Müller,renee@example.com\r\nJosé,Núñez,jose@example.com\r\n', 'win1252');
    const job = await runImport(companyId, file);
    expect(counts(job)).toMatchObject({ status: 'completed', created: 2, failed: 0 });
    expect(await clientByEmail(companyId, 'renee@example.com')).toMatchObject({ firstName: 'Renée', lastName: 'Müller' });
    expect(await clientByEmail(companyId, 'jose@example.com')).toMatchObject({ firstName: 'José', lastName: 'Núñez' });
  });

  it('a mapping that matches no required field fails the import with an error', async () => {
    const companyId = await newCompany();
    const job = await runImport(companyId, 'Email,Phone\r\na@example.com,1\r\n');
    expect(job.status).toBe('failed');
    expect(job.error).toMatch(/company/);
    expect(job.finishedAt).not.toBeNull();
    expect(job.created).toBe(0);
  });

  it('a group column names the group; an unknown group fails the row', async () => {
    const companyId = await newCompany();
    const { group } = await createGroup({ companyId, name: 'Resellers' });
    const job = await runImport(companyId, 'Company,Email,Group\r\nA Co,a@example.com, resellers \r\nB Co,b@example.com,Nope\r\n');
    expect(counts(job)).toMatchObject({ created: 1, failed: 1 });
    expect((await clientByEmail(companyId, 'a@example.com'))?.groupId).toBe(group.id);
    expect(await errorsOf(job)).toEqual([{ row: 3, column: 'Group', value: 'Nope', message: 'No client group is named "Nope".' }]);
  });
});

describe('rules', () => {
  it('the same file twice: skipped without updateExisting, then updated with it (only the fields the file gives)', async () => {
    const companyId = await newCompany();
    const first = await runImport(companyId, 'Company,Email,Mobile\r\nA Co,a@example.com,+1 555 0001\r\nB Co,b@example.com,\r\n');
    expect(counts(first)).toMatchObject({ created: 2 });
    const a = await clientByEmail(companyId, 'a@example.com');
    const again = await runImport(companyId, 'Company,Email,Mobile\r\nA Co,a@example.com,+1 555 0001\r\nB Co,b@example.com,\r\n');
    expect(counts(again)).toMatchObject({ status: 'completed', totalRows: 2, created: 0, updated: 0, skipped: 2, failed: 0 });
    expect((await errorsOf(again))[0]).toMatchObject({ row: 2, column: 'Email', value: 'a@example.com' });
    const updated = await runImport(companyId, 'Email,Company,City,Telephone\r\na@example.com,A Company,Lyon,+1 555 0002\r\n', { updateExisting: true });
    expect(counts(updated)).toMatchObject({ status: 'completed', totalRows: 1, created: 0, updated: 1, skipped: 0, failed: 0 });
    const after = await clientByEmail(companyId, 'a@example.com');
    expect(after).toMatchObject({ id: a?.id, number: a?.number, company: 'A Company', city: 'Lyon' });
    // The mobile the file left out is kept; the telephone it gives is added.
    expect(after?.phones).toEqual([
      { type: 'phone', location: 'mobile', number: '+1 555 0001' },
      { type: 'phone', location: 'work', number: '+1 555 0002' },
    ]);
  });

  it('uniqueBy number matches existing clients by number', async () => {
    const companyId = await newCompany();
    await createClient(companyId, { company: 'Old', number: 500 }, null);
    const job = await runImport(companyId, 'Client Number,Company\r\n500,New Name\r\n501,Other\r\n', { uniqueBy: 'number', updateExisting: true });
    expect(counts(job)).toMatchObject({ created: 1, updated: 1 });
    expect((await getClient(companyId, (await ownerOfUnique(companyId, 'number', '500')) as string))?.company).toBe('New Name');
  });

  it('duplicates inside a file: the first row wins, later ones fail as duplicates of it', async () => {
    const companyId = await newCompany();
    const job = await runImport(companyId, 'Company,Email\r\nA,dup@example.com\r\nB,other@example.com\r\nC,DUP@example.com\r\nD,dup@example.com\r\n');
    expect(counts(job)).toMatchObject({ totalRows: 4, created: 2, failed: 2 });
    expect(await errorsOf(job)).toEqual([
      { row: 4, column: 'Email', value: 'DUP@example.com', message: 'Duplicate of row 2.' },
      { row: 5, column: 'Email', value: 'dup@example.com', message: 'Duplicate of row 2.' },
    ]);
    expect((await clientByEmail(companyId, 'dup@example.com'))?.company).toBe('A');
  });

  it('a dry run gives the same counts and errors as the real run, and writes no client', async () => {
    const companyId = await newCompany();
    await createClient(companyId, { company: 'Existing', email: 'taken@example.com' }, null);
    const file = 'Company,Email,Currency\r\nA,a@example.com,\r\nB,taken@example.com,\r\nC,a@example.com,\r\nD,,XYZ\r\nE,e@example.com,EUR\r\n';
    const dry = await runImport(companyId, file, { dryRun: true });
    expect(await clientByEmail(companyId, 'a@example.com')).toBeUndefined();
    const real = await runImport(companyId, file);
    expect(counts(dry)).toEqual(counts(real));
    expect(counts(real)).toMatchObject({ created: 1, skipped: 1, failed: 3 });
    expect(await errorsOf(dry)).toEqual(await errorsOf(real));
    expect(await clientByEmail(companyId, 'a@example.com')).toBeDefined();
  });
});

describe('logins', () => {
  it('a login the identity provider refuses fails its row (no client left, not counted created); a throttled one is retried', async () => {
    const companyId = await newCompany();
    const real = getServices().identity;
    let throttled = 0;
    const identity: IdentityProvider = Object.create(real);
    identity.createUser = async (input) => {
      if (input.username === 'refused@example.com') throw new ConflictError('A login with that username already exists.', { field: 'username' });
      if (input.username === 'busy@example.com' && throttled++ < 2) throw new ThrottledError('The identity provider is busy; retry shortly.', 1);
      return real.createUser(input);
    };
    overrideServices({ identity });
    try {
      const job = await runImport(companyId, 'Company,Email\r\nA,refused@example.com\r\nB,busy@example.com\r\n');
      expect(counts(job)).toMatchObject({ status: 'completed', totalRows: 2, created: 1, failed: 1 });
      expect(await errorsOf(job)).toEqual([{ row: 2, message: 'A login with that username already exists.' }]);
      expect(await clientByEmail(companyId, 'refused@example.com')).toBeUndefined();
      expect((await clientByEmail(companyId, 'busy@example.com'))?.userId).toBeTruthy();
      expect(throttled).toBe(3);
    } finally {
      overrideServices({ identity: real });
    }
  });
});

describe('at-least-once delivery', () => {
  it('the same S3 event and the same chunk message delivered twice import once', async () => {
    const companyId = await newCompany();
    const { job } = await createImport({ companyId, filename: 'clients.csv', options: OPTIONS });
    const event = await upload(job.objectKey, 'Company,Email\r\nA,a@example.com\r\nB,b@example.com\r\n');
    await deliver(event);
    expect(sent).toHaveLength(1);
    const chunkMessage = sent[0];
    await drain();
    await deliver(chunkMessage);
    await deliver(event);
    expect(sent).toHaveLength(0);
    const done = (await getImport(companyId, job.id)) as ImportJob;
    expect(counts(done)).toEqual({ status: 'completed', totalRows: 2, processedRows: 2, created: 2, updated: 0, skipped: 0, failed: 0 });
  });

  it('an event whose object was replaced before it was read leaves the import to the newer object’s event, not failed', async () => {
    const companyId = await newCompany();
    const { job } = await createImport({ companyId, filename: 'clients.csv', options: OPTIONS });
    const file = 'Company,Email\r\nA,a@example.com\r\nB,b@example.com\r\n';
    // What a reader meets while the stand-in writes a second PUT of the same key in place: a part of the file.
    await getServices().importFiles.put(job.objectKey, Buffer.from(file.slice(0, 9)), 'text/csv');
    await deliver(objectCreatedEvent(BUCKET, job.objectKey, Buffer.byteLength(file), 'SEQ-first'));
    expect(sent).toHaveLength(0);
    expect((await getImport(companyId, job.id))?.status).toBe('queued');
    await upload(job.objectKey, file);
    await drain();
    expect(counts((await getImport(companyId, job.id)) as ImportJob)).toEqual({
      status: 'completed',
      totalRows: 2,
      processedRows: 2,
      created: 2,
      updated: 0,
      skipped: 0,
      failed: 0,
    });
  });

  it('a file dropped into the bucket is imported once per upload, listed with the API imports', async () => {
    const companyId = await newCompany();
    const event = await upload(`imports/${companyId}/ops list.csv`, 'Business Name,Email\r\nDrop Co,drop@example.com\r\n');
    await drain();
    await deliver(event);
    await drain();
    const { items } = await listImports(companyId, 10);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ filename: 'ops list.csv', source: 'drop', status: 'completed', created: 1 });
    expect(await clientByEmail(companyId, 'drop@example.com')).toMatchObject({ company: 'Drop Co' });
  });

  it('a multi-chunk file whose worker stops mid-chunk is resumed from its checkpoint: exact counts, no duplicates', async () => {
    const companyId = await newCompany();
    // No emails: nothing but the row markers could stop a row run twice from making a second client.
    const rows = Array.from({ length: 120 }, (_, i) => `Co ${i},`);
    rows[70] = 'Bad,not-an-email';
    const file = `Company,Email\r\n${rows.join('\r\n')}\r\n`;
    process.env.BILLOW_IMPORT_CHUNK_BYTES = '300';
    try {
      const { job } = await createImport({ companyId, filename: 'big.csv', options: OPTIONS });
      await upload(job.objectKey, file);
      const messages = sent.splice(0) as ChunkMessage[];
      expect(messages.length).toBeGreaterThan(2);
      // The second chunk's worker dies after 30 rows (past its first checkpoint, mid-batch).
      let done = 0;
      await expect(
        processChunk(messages[1], {
          afterRow: () => {
            if (++done === 30) throw new Error('worker killed');
          },
        }),
      ).rejects.toThrow('worker killed');
      const midway = (await getImport(companyId, job.id)) as ImportJob;
      expect(midway.status).toBe('running');
      expect(midway.processedRows).toBeGreaterThan(0);
      for (const message of messages) await deliver(message);
      await deliver(messages[1]);
      const finished = (await getImport(companyId, job.id)) as ImportJob;
      expect(counts(finished)).toEqual({ status: 'completed', totalRows: 120, processedRows: 120, created: 119, updated: 0, skipped: 0, failed: 1 });
      expect(finished.plan?.chunkCount).toBe(messages.length);
      expect((await errorsOf(finished)).map((e) => e.row)).toEqual([72]);
      // Numbered 1–119 in the order created: a 120th client would be a row imported twice.
      expect(await ownerOfUnique(companyId, 'number', '119')).toBeDefined();
      expect(await ownerOfUnique(companyId, 'number', '120')).toBeUndefined();
    } finally {
      delete process.env.BILLOW_IMPORT_CHUNK_BYTES;
    }
  });

  it('an unparseable message is dropped, not retried', async () => {
    const result = await handleImportBatch({ Records: [{ ...importQueueEvent({}).Records[0], body: 'not json' }] });
    expect(result.batchItemFailures).toEqual([]);
  });
});
