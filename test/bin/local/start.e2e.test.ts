import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, ListTablesCommand, paginateScan } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalFacts } from '../../../bin/local/stack.js';
import { TOKEN_LIFETIME_SECONDS } from '../../../functions/adapters/identity/port.js';
import { companyPk, companySk } from '../../../functions/store/keys.js';

/**
 * `npm start` as a user runs it: `tsx bin/local.ts` in a child process (npm's own wrapper is left out because
 * npm reports a Ctrl-C as death by signal whatever the program's exit code; the program is the same).
 */
const root = fileURLToPath(new URL('../../..', import.meta.url));
const tsx = join(root, 'node_modules', '.bin', 'tsx');

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Every run's process group, killed after each test: whatever a run left behind goes with it, even after it exited. */
const started: ChildProcess[] = [];

function start(stateDir: string, port: number, env: Record<string, string> = {}): Run {
  rmSync(join(stateDir, 'local.json'), { force: true });
  // Its own process group, so whatever is left (tsx, node, DynamoDB Local's java) can be cleaned up by group id.
  const child = spawn(tsx, ['bin/local.ts'], {
    cwd: root,
    env: { ...process.env, BILLOW_STATE_DIR: stateDir, BILLOW_PORT: String(port), POWERTOOLS_LOG_LEVEL: 'WARN', ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Ready once it has printed its banner, which comes after local.json is written. */
function waitForFacts(run: Run, stateDir: string): Promise<LocalFacts> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!run.stdout().includes('Billow is running')) return;
      run.child.stdout!.off('data', check);
      resolve(JSON.parse(readFileSync(join(stateDir, 'local.json'), 'utf8')) as LocalFacts);
    };
    run.child.stdout!.on('data', check);
    void run.exited.then(() => reject(new Error(`npm start exited early:\n${run.stdout()}\n${run.stderr()}`)));
    check();
  });
}

/** Whether a DynamoDB Local of this state folder still runs (its java is started with `-dbPath <stateDir>/…`). */
const dynamoLeftRunning = (stateDir: string) => spawnSync('pgrep', ['-f', `DynamoDBLocal.jar .*-dbPath ${stateDir}/`]).status === 0;

/** Ctrl-C, then how it ended. */
async function interrupt(run: Run): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  run.child.kill('SIGINT');
  return run.exited;
}

/** stderr without npm's or Node's environment chatter that is not Billow's. */
const ownStderr = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.trim() !== '' && !/^npm warn/i.test(l))
    .join('\n');

const stateDirs: string[] = [];
/** A state folder of the test's own: no test depends on what another left behind. */
function freshStateDir(prefix = 'billow-start-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  stateDirs.push(dir);
  return dir;
}

afterEach(async () => {
  for (const child of started.splice(0)) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const dir of stateDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function call(facts: LocalFacts, method: string, path: string, body?: unknown) {
  const res = await fetch(facts.apiUrl + path, {
    method,
    headers: { authorization: `Bearer ${facts.staffToken}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

/** The command printed after `label` on its own line of the banner. */
function printedCommand(banner: string, label: string): string {
  const lines = banner.split('\n');
  const at = lines.findIndex((l) => l.includes(label));
  expect(at, `no "${label}" in the banner:\n${banner}`).toBeGreaterThanOrEqual(0);
  const rest = lines[at].slice(lines[at].indexOf(label) + label.length).trim();
  return rest || lines[at + 1].trim();
}

/** Runs a printed command as a user would paste it, from a folder other than the project's; its stdout as JSON. */
function runPrinted(command: string): any {
  return JSON.parse(execFileSync('bash', ['-c', command], { cwd: tmpdir(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 }));
}

/** Every item of a table, read with a client made only from local.json's `dynamodb` facts. */
async function scanAll(client: DynamoDBClient, table: string) {
  const items = [];
  for await (const page of paginateScan({ client }, { TableName: table })) items.push(...(page.Items ?? []));
  return items;
}

describe('npm start', () => {
  it('on BILLOW_PORT=0 takes a free port and reports it in local.json and the banner, serves the API with the seeded staff token, and stops cleanly on Ctrl-C', async () => {
    const stateDir = freshStateDir();
    const run = start(stateDir, 0);
    const facts = await waitForFacts(run, stateDir);
    expect(facts).toMatchObject({
      apiUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:[1-9]\d*$/),
      companyId: expect.stringMatching(/^co_/),
      staffToken: expect.any(String),
      operatorToken: expect.any(String),
    });
    // It prints the same facts.
    for (const fact of [facts.apiUrl, facts.companyId, facts.staffPassword, facts.operatorPassword]) expect(run.stdout()).toContain(fact);

    const health = await fetch(`${facts.apiUrl}/v1/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const created = await call(facts, 'POST', '/v1/client-groups', { name: 'Made with the seeded token' });
    expect(created.status).toBe(201);

    const exit = await interrupt(run);
    expect(exit, run.stderr()).toEqual({ code: 0, signal: null });
    expect(run.stdout()).toMatch(/Stopped/);
    expect(ownStderr(run.stderr())).toBe('');
    expect(dynamoLeftRunning(stateDir), 'DynamoDB Local outlived the run').toBe(false);
  }, 60_000);

  it('with BILLOW_FAULT_RATE starts cleanly (its own start runs without faults), then serves the faults as problem documents', async () => {
    const stateDir = freshStateDir();
    // Every call faulted, none past recovery: a fault in the stack's own start would stop it before the banner.
    const run = start(stateDir, 0, { BILLOW_FAULT_RATE: '1', BILLOW_FAULT_SEED: '11', BILLOW_FAULT_CALL_SHARE: '1' });
    const facts = await waitForFacts(run, stateDir);
    expect(run.stdout()).toMatch(/Fault injection is ON: 1 of the calls/);
    const res = await fetch(`${facts.apiUrl}/v1/client-groups`, { headers: { authorization: `Bearer ${facts.staffToken}` } });
    const problem = (await res.json()) as { status: number; requestId: string };
    expect([429, 503], JSON.stringify(problem)).toContain(res.status);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(problem.requestId).toBe(res.headers.get('x-request-id'));
    const exit = await interrupt(run);
    expect(exit, run.stderr()).toEqual({ code: 0, signal: null });
  }, 60_000);

  it('with BILLOW_STATE_DIR in a folder whose name needs quoting: prints commands that work from any folder, says when tokens expire, and local.json lets a DynamoDB client read the seeded data', async () => {
    const stateDir = freshStateDir("billow start's-");
    const run = start(stateDir, 0);
    const facts = await waitForFacts(run, stateDir);
    const banner = run.stdout();

    const tryIt = printedCommand(banner, 'Try:');
    expect(tryIt).toContain(facts.apiUrl);
    expect(runPrinted(tryIt)).toEqual({ data: expect.any(Array), nextCursor: null });

    expect(banner).toContain(`The tokens expire ${TOKEN_LIFETIME_SECONDS / 60} minutes after this start`);
    const renewed = runPrinted(printedCommand(banner, 'A new staff token:'));
    expect(renewed).toEqual({ token: expect.any(String), expiresIn: TOKEN_LIFETIME_SECONDS });
    const withRenewed = await call({ ...facts, staffToken: renewed.token }, 'GET', '/v1/settings');
    expect(withRenewed.status).toBe(200);
    expect(banner).toContain(`These facts are also in ${join(stateDir, 'local.json')}.`);

    const db = facts.dynamodb;
    expect(db).toEqual({
      endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:[1-9]\d*$/),
      region: expect.any(String),
      accessKeyId: expect.stringMatching(/^[A-Za-z0-9]+$/),
      secretAccessKey: expect.stringMatching(/^[A-Za-z0-9]+$/),
      tables: { main: expect.any(String), identity: expect.any(String) },
    });
    for (const fact of [db.endpoint, db.region, db.accessKeyId, db.secretAccessKey, db.tables.main, db.tables.identity]) expect(banner).toContain(fact);
    const dynamo = new DynamoDBClient({
      endpoint: db.endpoint,
      region: db.region,
      credentials: { accessKeyId: db.accessKeyId, secretAccessKey: db.secretAccessKey },
    });
    try {
      const listed = await dynamo.send(new ListTablesCommand({}));
      expect(listed.TableNames).toEqual(expect.arrayContaining([db.tables.main, db.tables.identity]));
      const main = await scanAll(dynamo, db.tables.main);
      expect(main.filter((item) => item.PK?.S === companyPk(facts.companyId) && item.SK?.S === companySk)).toHaveLength(1);
      const logins = (await scanAll(dynamo, db.tables.identity)).map((item) => ({ username: item.username?.S, companyId: item.companyId?.S }));
      expect(logins).toEqual(
        expect.arrayContaining([
          { username: facts.staffUsername, companyId: facts.companyId },
          { username: facts.operatorUsername, companyId: undefined },
        ]),
      );
    } finally {
      dynamo.destroy();
    }

    expect(await interrupt(run)).toEqual({ code: 0, signal: null });
  }, 60_000);

  it('local.json`s s3 facts let any S3 client drop a CSV into the imports bucket as ops would, and it is imported', async () => {
    const stateDir = freshStateDir();
    const run = start(stateDir, 0);
    const facts = await waitForFacts(run, stateDir);
    const banner = run.stdout();
    const s3 = facts.s3;
    expect(s3).toEqual({
      endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:[1-9]\d*$/),
      region: expect.any(String),
      accessKeyId: expect.any(String),
      secretAccessKey: expect.any(String),
      importsBucket: expect.any(String),
    });
    for (const fact of [s3.endpoint, s3.region, s3.accessKeyId, s3.secretAccessKey, s3.importsBucket]) expect(banner).toContain(fact);
    const drop = printedCommand(banner, '(imported by its header names):');
    expect(drop).toContain(
      `aws --endpoint-url ${s3.endpoint} --region ${s3.region} s3 cp clients.csv s3://${s3.importsBucket}/imports/${facts.companyId}/clients.csv`,
    );
    expect(printedCommand(banner, 'Import clients from a CSV through the API:')).toContain('run import -- clients.csv');

    // Only what local.json says; the checksum setting is what the printed command sets too (s3rver needs it).
    const client = new S3Client({
      endpoint: s3.endpoint,
      region: s3.region,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
    try {
      const csv = 'First Name,Last Name,Email\nAnn,Lee,ann.drop@example.com\nBo,Roe,bo.drop@example.com\n';
      await client.send(new PutObjectCommand({ Bucket: s3.importsBucket, Key: `imports/${facts.companyId}/ops drop.csv`, Body: csv, ContentType: 'text/csv' }));
    } finally {
      client.destroy();
    }
    let imports: any[] = [];
    for (let i = 0; i < 100 && imports[0]?.status !== 'completed'; i++) {
      await new Promise((r) => setTimeout(r, 200));
      imports = (await call(facts, 'GET', '/v1/imports')).body.data;
    }
    expect(imports).toHaveLength(1);
    expect(imports[0]).toMatchObject({ filename: 'ops drop.csv', status: 'completed', totalRows: 2, created: 2, failed: 0 });
    const found = await call(facts, 'GET', '/v1/clients?q=ann.drop');
    expect(found.body.data.map((c: { email: string }) => c.email)).toEqual(['ann.drop@example.com']);

    expect(await interrupt(run)).toEqual({ code: 0, signal: null });
  }, 60_000);

  it('starts again on the same state: same company, same data', async () => {
    const stateDir = freshStateDir();
    const first = start(stateDir, 0);
    const firstFacts = await waitForFacts(first, stateDir);
    const created = await call(firstFacts, 'POST', '/v1/client-groups', { name: 'Survives restarts' });
    expect(created.status).toBe(201);
    expect(await interrupt(first)).toEqual({ code: 0, signal: null });

    const run = start(stateDir, 0);
    const facts = await waitForFacts(run, stateDir);
    expect(facts.companyId).toBe(firstFacts.companyId);
    expect(facts.staffPassword).toBe(firstFacts.staffPassword);
    const read = await call(facts, 'GET', `/v1/client-groups/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body.name).toBe('Survives restarts');
    // One company, not a second demo company.
    const companies = await fetch(`${facts.apiUrl}/v1/companies`, { headers: { authorization: `Bearer ${facts.operatorToken}` } });
    expect(((await companies.json()) as { data: unknown[] }).data).toHaveLength(1);

    expect(await interrupt(run)).toEqual({ code: 0, signal: null });
  }, 120_000);

  it('on a busy port prints one sentence, no stack trace, and exits non-zero before starting DynamoDB Local', async () => {
    const stateDir = freshStateDir();
    // The port is held from the moment the system hands it out, so nothing else can take it before Billow tries.
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const run = start(stateDir, port);
      const exit = await run.exited;
      expect(exit.code).not.toBe(0);
      expect(exit.code).not.toBeNull();
      const message = ownStderr(run.stderr());
      expect(message.split('\n'), message).toHaveLength(1);
      expect(message).toMatch(new RegExp(`Port ${port} is already in use`));
      expect(message).not.toMatch(/\n\s+at |Error:|node:internal/);
      expect(run.stdout()).toBe('');
      expect(existsSync(join(stateDir, 'dynamodb')), 'DynamoDB Local was started').toBe(false);
      expect(dynamoLeftRunning(stateDir), 'DynamoDB Local outlived the run').toBe(false);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  }, 30_000);
});
