import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseImportArgs, runImport, type ImportRequest } from '../../bin/import.js';
import { createCompany, startTestApi, type TestApi } from '../support/stack.js';

/** `npm run import` against the local stack: the API creates the import, the file goes to the S3 stand-in, the worker runs. */
let api: TestApi;
let dir: string;

beforeAll(async () => {
  api = await startTestApi();
  dir = mkdtempSync(join(tmpdir(), 'billow-import-cli-'));
}, 60_000);

afterAll(async () => {
  await api?.stack.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** Runs the command as `npm run import -- <args>` would for a company, collecting what it prints. */
async function run(args: string[], facts: { companyId: string; staffToken: string }) {
  const request = parseImportArgs(args) as ImportRequest;
  const printed: string[] = [];
  const progress: string[] = [];
  const job = await runImport(
    { apiUrl: api.url, companyId: facts.companyId, staffToken: facts.staffToken, staffUsername: 'unused', staffPassword: 'unused' },
    request,
    { print: (line) => printed.push(line), progress: (line) => progress.push(line), pollMs: 50 },
  );
  return { job, printed, progress };
}

describe('npm run import', () => {
  it('uploads a file through the API, follows its progress to the end, and prints the counts, the unmapped columns and the error report', async () => {
    const company = await createCompany(api, 'Import CLI Co', 'USD');
    const path = file(
      'clients list.csv',
      'First Name,Last Name,Email,Favourite colour\nAda,Lovelace,ada@cli.test,green\nBo,Diddley,bo@cli.test,red\n,,nobody@cli.test,blue\n',
    );
    const { job, printed, progress } = await run([path], company);
    expect(job).toMatchObject({ status: 'completed', totalRows: 3, created: 2, updated: 0, skipped: 0, failed: 1 });
    expect(progress.filter(Boolean).at(-1)).toBe(`[${'#'.repeat(30)}] 100% 3/3 rows  completed`);
    expect(printed[0]).toMatch(/^Import imp_\w+: uploading .*clients list\.csv \(\d+ bytes\)$/);
    expect(printed.slice(1)).toEqual([
      `Import ${job.id}: completed`,
      '  rows 3: created 2, updated 0, skipped 0, failed 1',
      '  columns no field took (not imported): Favourite colour',
      `  errors (row, column, message): ${api.url}/v1/imports/${job.id}/errors`,
      `  the rejected rows as CSV with an error column: ${api.url}/v1/imports/${job.id}/errors?format=csv`,
    ]);
    const listed = await api.call('GET', '/v1/clients?q=ada', { token: company.staffToken });
    expect(listed.body.data.map((c: { email: string }) => c.email)).toEqual(['ada@cli.test']);
    const report = await api.call('GET', `/v1/imports/${job.id}/errors?format=csv`, { token: company.staffToken });
    expect(report.text).toContain('nobody@cli.test');
  }, 60_000);

  it('sends its options: a semicolon file without a header mapped by index, as a dry run that writes nothing', async () => {
    const company = await createCompany(api, 'Import CLI Dry Co', 'USD');
    const path = file('noheader.csv', 'Acme Ltd;x;acme@cli.test\nBeta Ltd;y;beta@cli.test\n');
    const { job, printed } = await run([path, '--no-header', '--delimiter', ';', '--map', 'company=0', '--map', 'email=2', '--dry-run'], company);
    expect(job).toMatchObject({ status: 'completed', dryRun: true, totalRows: 2, created: 2, failed: 0 });
    expect(printed).toContain('  rows 2: would be created 2, would be updated 0, skipped 0, failed 0');
    const listed = await api.call('GET', '/v1/clients', { token: company.staffToken });
    expect(listed.body.data).toEqual([]);
  }, 60_000);

  it('a web app on another origin may PUT to the presigned URL (the imports bucket allows it, as in AWS)', async () => {
    const created = await api.staff('POST', '/v1/imports', { filename: 'from-a-browser.csv' });
    expect(created.status).toBe(201);
    const preflight = await fetch(created.body.uploadUrl, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type' },
    });
    expect(preflight.status).toBe(200);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('PUT');
  }, 60_000);

  it('a mapping the API refuses is an error naming the field; nothing is uploaded', async () => {
    const company = await createCompany(api, 'Import CLI Bad Co', 'USD');
    const path = file('bad.csv', 'a,b\n1,2\n');
    await expect(run([path, '--map', 'shoeSize=0'], company)).rejects.toThrow(/not created \(400\):\n {2}mapping\.shoeSize/);
    const imports = await api.call('GET', '/v1/imports', { token: company.staffToken });
    expect(imports.body.data).toEqual([]);
  }, 60_000);
});
