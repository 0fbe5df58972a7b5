import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleImportMessage } from '../../functions/imports/worker.js';
import { type CsvRecord, parseCsv } from '../../functions/imports/parse-csv.js';
import { createCompany, startTestApi, type ApiResponse, type TestApi } from '../support/stack.js';

/**
 * Client imports end to end over HTTP on the local stack: the presigned upload, the S3 event through the in-process
 * queue to the worker, live progress, counts and errors (JSON and CSV); a Billow export re-imported into another
 * company; a file dropped straight into the imports bucket with any S3 client (the `s3` facts); the same upload
 * delivered twice.
 */
let api: TestApi;
let companyId: string;
let seq = 0;
const unique = (stem: string) => `${stem}${++seq}${Math.random().toString(36).slice(2, 6)}`;

beforeAll(async () => {
  api = await startTestApi();
  companyId = api.facts.companyId;
});
afterAll(async () => {
  await api?.stack.stop();
});

function expectStatus(res: ApiResponse, status: number): void {
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${res.text}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until the local imports queue has delivered every message (the stack registers it process-wide, see
 * functions/adapters/import-queue/local.ts): a second S3 event may still be on its way when the job already reads
 * completed.
 */
async function queueIdle(): Promise<void> {
  const queue = (globalThis as Record<symbol, unknown>)[Symbol.for('billow.localImportQueue')] as { idle(): Promise<void> } | undefined;
  if (!queue) throw new Error('No local import queue is registered.');
  await queue.idle();
}

interface Created {
  id: string;
  uploadUrl: string;
  uploadHeaders: Record<string, string>;
}

async function createImport(body: Record<string, unknown>, token = api.facts.staffToken): Promise<Created> {
  const res = await api.call('POST', '/v1/imports', { token, body });
  expectStatus(res, 201);
  expect(res.body).toMatchObject({ status: 'awaiting_upload', uploadMethod: 'PUT', uploadHeaders: { 'Content-Type': 'text/csv' } });
  return res.body;
}

async function upload(created: Created, file: string | Uint8Array): Promise<void> {
  const res = await fetch(created.uploadUrl, { method: 'PUT', headers: created.uploadHeaders, body: typeof file === 'string' ? Buffer.from(file) : file });
  if (res.status !== 200) throw new Error(`upload failed: ${res.status} ${await res.text()}`);
}

/** Polls the import until it ends; the live view is checked at every step. */
async function finished(id: string, token = api.facts.staffToken): Promise<any> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const res = await api.call('GET', `/v1/imports/${id}`, { token });
    expectStatus(res, 200);
    const job = res.body;
    if (job.totalRows !== null) expect(job.processedRows).toBeLessThanOrEqual(job.totalRows);
    if (job.status === 'completed' || job.status === 'failed') return job;
    if (Date.now() > deadline) throw new Error(`import ${id} is still ${job.status}: ${res.text}`);
    await sleep(100);
  }
}

async function importFile(file: string | Uint8Array, body: Record<string, unknown> = {}, token = api.facts.staffToken): Promise<any> {
  const created = await createImport({ filename: 'clients.csv', ...body }, token);
  await upload(created, file);
  return finished(created.id, token);
}

async function records(bytes: Uint8Array): Promise<CsvRecord[]> {
  const out: CsvRecord[] = [];
  for await (const record of parseCsv(bytes)) out.push(record);
  return out;
}

/** The clients whose email starts with `prefix`, by email. */
async function clientsByEmail(prefix: string, token = api.facts.staffToken): Promise<Map<string, any>> {
  const res = await api.call('GET', `/v1/clients?q=${encodeURIComponent(prefix)}&limit=100`, { token });
  expectStatus(res, 200);
  return new Map(res.body.data.map((c: { email: string }) => [c.email, c]));
}

describe('an import through the API', () => {
  it('uploads to the presigned URL, runs to completed with exact counts, and reports the bad rows as JSON and CSV', async () => {
    const tag = unique('seed');
    const file = [
      'Client Number,Email,Business Name,First Name,Last Name,Telephone,Street Address 1,Country,Favourite Colour',
      `,${tag}-ana@example.com,,Ana,Lima,+55 11 5555 0101,Rua A 1,Brazil,blue`,
      `,${tag}-bob@example.com,"Bob's Bikes, Inc.",,,,,United States,`,
      ',not-an-email,,Cy,,,,Atlantis,green',
      `,${tag}-dan@example.com,,Dan,Dorr,,,FR,`,
    ].join('\r\n');
    const job = await importFile(file);
    expect(job).toMatchObject({
      status: 'completed',
      source: 'api',
      dryRun: false,
      totalRows: 4,
      processedRows: 4,
      created: 3,
      updated: 0,
      skipped: 0,
      failed: 1,
      unmappedColumns: ['Favourite Colour'],
    });
    expect(job.finishedAt).toEqual(expect.any(String));

    const clients = await clientsByEmail(tag);
    expect([...clients.keys()].sort()).toEqual([`${tag}-ana@example.com`, `${tag}-bob@example.com`, `${tag}-dan@example.com`]);
    const ana = (await api.staff('GET', `/v1/clients/${clients.get(`${tag}-ana@example.com`).id}`)).body;
    expect(ana).toMatchObject({
      firstName: 'Ana',
      lastName: 'Lima',
      country: 'BR',
      address1: 'Rua A 1',
      phones: [{ type: 'phone', location: 'work', number: '+55 11 5555 0101' }],
    });
    expect(clients.get(`${tag}-bob@example.com`)).toMatchObject({ company: "Bob's Bikes, Inc." });

    const errors = await api.staff('GET', `/v1/imports/${job.id}/errors`);
    expectStatus(errors, 200);
    expect(errors.body.nextCursor).toBeNull();
    // Row 4 of the file (the header is row 1): every problem of the row at once, each naming its column.
    expect(errors.body.data.every((e: { row: number }) => e.row === 4)).toBe(true);
    expect(errors.body.data.map((e: { column?: string }) => e.column)).toEqual(expect.arrayContaining(['Email', 'Country']));
    expect(errors.body.data.find((e: { column?: string }) => e.column === 'Email')).toMatchObject({ value: 'not-an-email' });

    const csv = await api.staff('GET', `/v1/imports/${job.id}/errors?format=csv`);
    expectStatus(csv, 200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const [header, ...rejected] = await records(new Uint8Array(Buffer.from(csv.text)));
    expect(header.cells.at(-1)).toBe('error');
    expect(header.cells.slice(0, -1)).toEqual(file.split('\r\n')[0].split(','));
    expect(rejected).toHaveLength(1);
    expect(rejected[0].cells.slice(0, -1)).toEqual(['', 'not-an-email', '', 'Cy', '', '', '', 'Atlantis', 'green']);
    expect(rejected[0].cells.at(-1)).toMatch(/\S/);

    // The same file again: its clients exist (by email), so they are skipped; with updateExisting, updated.
    expect(await importFile(file)).toMatchObject({ status: 'completed', totalRows: 4, created: 0, skipped: 3, failed: 1 });
    expect(await importFile(file.replace('Rua A 1', 'Rua B 2'), { updateExisting: true })).toMatchObject({ status: 'completed', updated: 3, failed: 1 });
    expect((await api.staff('GET', `/v1/clients/${ana.id}`)).body.address1).toBe('Rua B 2');
    expect((await clientsByEmail(tag)).size).toBe(3);
  });

  it('refuses a mapping that names an unknown field, or maps no required field (400 naming the mapping)', async () => {
    const unknown = await api.staff('POST', '/v1/imports', { filename: 'x.csv', mapping: { company: 'Business Name', nickname: 'Nick' } });
    expectStatus(unknown, 400);
    expect(unknown.body.errors.map((e: { path: string }) => e.path)).toEqual(['mapping.nickname']);
    const noName = await api.staff('POST', '/v1/imports', { filename: 'x.csv', mapping: { email: 'Email' } });
    expectStatus(noName, 400);
    expect(noName.body.errors.map((e: { path: string }) => e.path)).toContain('mapping.company');
  });

  it('imports the same upload once however often it is delivered', async () => {
    const tag = unique('twice');
    const file = `Email,First Name,Last Name\r\n${tag}-a@example.com,A,One\r\n${tag}-b@example.com,B,Two\r\n`;
    const created = await createImport({ filename: `${tag}.csv` });
    // Two PUTs of the same file: S3 sends an object-created event for each.
    await upload(created, file);
    await upload(created, file);
    const job = await finished(created.id);
    await queueIdle();
    expect(await finished(created.id)).toEqual(job);
    expect(job).toMatchObject({ status: 'completed', totalRows: 2, created: 2, failed: 0, skipped: 0 });
    // Once more after it completed (a re-upload of the same object): the import is over, nothing happens.
    await upload(created, file);
    await queueIdle();
    expect(await finished(created.id)).toEqual(job);
    // The same S3 event delivered again (S3 and SQS deliver at least once), straight to the worker.
    const key = decodeURIComponent(new URL(created.uploadUrl).pathname.split('/').slice(2).join('/'));
    const record = {
      eventName: 'ObjectCreated:Put',
      s3: { bucket: { name: api.facts.s3.importsBucket }, object: { key: encodeURIComponent(key).replace(/%20/g, '+'), size: Buffer.byteLength(file) } },
    };
    await handleImportMessage({ Records: [record] });
    await handleImportMessage({ Records: [record] });
    expect(await finished(created.id)).toEqual(job);
    expect((await clientsByEmail(tag)).size).toBe(2);
  });
});

describe('a file dropped into the imports bucket', () => {
  it('is imported by its header names and listed by GET /v1/imports, newest first', async () => {
    const tag = unique('drop');
    const { s3 } = api.facts;
    const client = new S3Client({
      endpoint: s3.endpoint,
      region: s3.region,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    const filename = `${tag} list.csv`;
    const file = `\uFEFFE-mail;Surname;First name;Company;Tel\r\n${tag}-x@example.com;Xu;Xi;;+44 20 7946 0000\r\n${tag}-y@example.com;;;Ypsilon Ltd;\r\n`;
    await client.send(
      new PutObjectCommand({ Bucket: s3.importsBucket, Key: `imports/${companyId}/${filename}`, Body: Buffer.from(file), ContentType: 'text/csv' }),
    );
    const deadline = Date.now() + 60_000;
    let listed: any;
    while (!listed) {
      const res = await api.staff('GET', '/v1/imports');
      expectStatus(res, 200);
      listed = res.body.data.find((i: { filename: string }) => i.filename === filename);
      if (!listed && Date.now() > deadline) throw new Error(`no import of ${filename}: ${res.text}`);
      if (!listed) await sleep(100);
    }
    expect(listed.source).toBe('drop');
    const job = await finished(listed.id);
    expect(job).toMatchObject({ status: 'completed', totalRows: 2, created: 2, failed: 0, unmappedColumns: [] });
    const clients = await clientsByEmail(tag);
    expect(clients.get(`${tag}-x@example.com`)).toMatchObject({ firstName: 'Xi', lastName: 'Xu' });
    expect(clients.get(`${tag}-y@example.com`)).toMatchObject({ company: 'Ypsilon Ltd' });
    // Newest first, whichever way they arrived: the dropped file is the latest import of this company.
    const list = await api.staff('GET', '/v1/imports');
    expect(list.body.data[0].id).toBe(listed.id);
    const times = list.body.data.map((i: { createdAt: string }) => i.createdAt);
    expect([...times].sort().reverse()).toEqual(times);
  });
});

describe('an export re-imported into another company', () => {
  it('creates the same clients: the second company exports the same file', async () => {
    const source = await createCompany(api, 'Export Source Co', 'USD');
    const target = await createCompany(api, 'Export Target Co', 'USD');
    const GROUP = 'Grands comptes, "VIP"';
    for (const company of [source, target]) {
      expectStatus(await api.call('PATCH', '/v1/settings', { token: company.staffToken, body: { currencies: ['USD', 'EUR'] } }), 200);
      expectStatus(await api.call('POST', '/v1/client-groups', { token: company.staffToken, body: { name: GROUP } }), 201);
    }
    const groups = await api.call('GET', '/v1/client-groups', { token: source.staffToken });
    const groupId = groups.body.data.find((g: { name: string }) => g.name === GROUP).id;
    const clients = [
      {
        firstName: 'Renée',
        lastName: 'O\'Brien, "Jr"',
        company: '=HYPERLINK("http://evil.example","click")',
        address1: 'Rue de l’Église 1\nBâtiment B',
        city: 'São Paulo',
        country: 'FR',
        email: 'renee@example.com',
        phones: [
          { type: 'phone', location: 'work', number: '+1 555 0101' },
          { type: 'fax', location: 'work', number: '+1 555 0103' },
          { type: 'phone', location: 'mobile', number: '+33 6 12 34 56 78' },
        ],
        taxExempt: true,
        taxId: '-FR12345678901',
        currency: 'EUR',
        language: 'fr',
        groupId,
      },
      { firstName: '@Zoë', lastName: '+Smith', title: "'quoted", email: 'zoe@example.com', zip: '=1+1', currency: 'USD' },
      { company: 'Müller & Söhne GmbH', address2: 'Hof 2\r\nTür 3', country: 'DE', taxId: 'DE 123', groupId },
    ];
    for (const body of clients) expectStatus(await api.call('POST', '/v1/clients', { token: source.staffToken, body }), 201);

    const exported = async (token: string) => {
      const res = await fetch(`${api.url}/v1/clients/export`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      return new Uint8Array(await res.arrayBuffer());
    };
    const file = await exported(source.staffToken);
    const job = await importFile(file, { filename: 'clients-export.csv' }, target.staffToken);
    expect(job).toMatchObject({ status: 'completed', totalRows: 3, created: 3, failed: 0, skipped: 0, unmappedColumns: [] });
    expect(Buffer.from(await exported(target.staffToken)).toString('utf8')).toBe(Buffer.from(file).toString('utf8'));
  });
});
