import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Construct } from 'constructs';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished, vi } from 'vitest';
import { sesEventNotification } from '../../bin/local/ses.js';
import { type LocalStack, startLocalStack } from '../../bin/local/stack.js';
import { CLAIM } from '../../functions/adapters/identity/claims.js';
import { hashAnswer, loginAsKey } from '../../functions/adapters/identity/login-as.js';
import { scopedUsername } from '../../functions/adapters/identity/port.js';
import { buildOpenApi } from '../../functions/http/openapi.js';
import { allRoutes } from '../../functions/http/route-table.js';
import { API_AREAS, type ApiArea } from '../../functions/http/route.js';
import { newId } from '../../functions/domain/ids.js';
import type { Transaction } from '../../functions/domain/invoice.js';
import { getMail } from '../../functions/store/mail.js';
import { putPendingCharge } from '../../functions/store/pending-charges.js';
import { insertPendingAttempt } from '../../functions/store/transactions.js';
import type { BillowStack } from '../../lib/billow-stack.js';
import { type SynthesisedFunction, synthBundled } from '../support/cdk.js';

/**
 * The deployed code, not the TypeScript sources: one `cdk synth` with esbuild bundling, then every Lambda function of
 * the template runs from its asset's `index.mjs` against DynamoDB Local with the local stand-ins (the environment the
 * local stack sets, BILLOW_RUNTIME=local). The API areas answer HTTP through the local API server; the SES events and
 * Cognito trigger functions get the events AWS sends them. Tracing is off there, as outside Lambda; the last tests
 * run a bundle in a process with Lambda's tracing environment to see what it sends to X-Ray.
 */

// Node's own loader, as in Lambda (vitest's `import()` would transform the bundle first); Node 24 requires ES modules.
const loadBundle = createRequire(import.meta.url) as (path: string) => Record<string, unknown>;

let outdir: string;
let stack: BillowStack;
let functions: SynthesisedFunction[];
let local: LocalStack;

const pathOf = (construct: Construct) => construct.node.path.slice(stack.node.path.length + 1);

function bundleOf(construct: Construct): SynthesisedFunction {
  const found = functions.find((fn) => fn.path === pathOf(construct));
  if (!found) throw new Error(`No synthesised function at ${pathOf(construct)}`);
  return found;
}

async function entryOf<T>(construct: Construct): Promise<T> {
  const bundle = bundleOf(construct);
  const entry = loadBundle(join(bundle.assetDir, 'index.mjs'))[bundle.exportName];
  if (typeof entry !== 'function') throw new Error(`${bundle.path}: index.mjs exports no function ${bundle.exportName}`);
  return entry as T;
}

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'billow-bundles-'));
  ({ stack, functions } = synthBundled(outdir));
  const handlers = new Map<ApiArea, Promise<never>>();
  const suffix = randomBytes(4).toString('hex');
  local = await startLocalStack({
    stateDir: mkdtempSync(join(tmpdir(), 'billow-test-')),
    port: 0,
    dynamoEndpoint: inject('dynamoEndpoint'),
    tables: { app: `billow-bundles-${suffix}`, identity: `billow-bundles-identity-${suffix}` },
    loadHandler: (area) => {
      if (!handlers.has(area)) handlers.set(area, entryOf(stack.api.functions[area]));
      return handlers.get(area)!;
    },
    // The local imports queue runs the synthesised worker.
    loadImportWorker: () => entryOf(stack.imports.worker),
  });
}, 300_000);

afterAll(async () => {
  await local?.stop();
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  contentType: string;
  bytes: Buffer;
  json: any;
}

async function call(method: string, path: string, options: { token?: string; body?: unknown } = {}): Promise<Answer> {
  const res = await fetch(local.facts.apiUrl + path, {
    method,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  const contentType = res.headers.get('content-type') ?? '';
  return { status: res.status, contentType, bytes, json: contentType.includes('json') && bytes.length ? JSON.parse(bytes.toString('utf8')) : undefined };
}

const staff = (method: string, path: string, body?: unknown) => call(method, path, { token: local.facts.staffToken, body });

function expectStatus(answer: Answer, status: number): void {
  if (answer.status !== status) throw new Error(`expected ${status}, got ${answer.status}: ${answer.bytes.toString('utf8').slice(0, 1000)}`);
}

async function newClient(): Promise<{ id: string; email: string }> {
  const created = await staff('POST', '/v1/clients', {
    firstName: 'Bundle',
    lastName: 'Tester',
    email: `bundle-${randomBytes(4).toString('hex')}@example.com`,
  });
  expectStatus(created, 201);
  return created.json;
}

async function newInvoice(clientId: string): Promise<{ id: string }> {
  const created = await staff('POST', `/v1/clients/${clientId}/invoices`, {
    lines: [{ description: 'Hosting', quantity: 1, unitAmount: 1250, taxable: false }],
  });
  expectStatus(created, 201);
  return created.json;
}

const isPdf = (answer: Answer) => answer.contentType.startsWith('application/pdf') && answer.bytes.subarray(0, 5).toString('latin1') === '%PDF-';

it('every Lambda function of the template is one this file invokes', () => {
  const invoked = [
    ...API_AREAS.map((area) => stack.api.functions[area]),
    stack.email.eventsFunction,
    stack.reconciler.function,
    stack.automation.taskFunction,
    stack.automation.dispatcher,
    stack.imports.worker,
    ...stack.identity.triggers,
  ].map(pathOf);
  expect(functions.map((fn) => fn.path).sort()).toEqual(invoked.sort());
});

describe('the platform bundle', () => {
  it('answers health, the OpenAPI document of the whole route table and the docs page with its script', async () => {
    const health = await call('GET', '/v1/health');
    expectStatus(health, 200);
    expect(health.json).toEqual({ status: 'ok' });
    const document = await call('GET', '/openapi.json');
    expectStatus(document, 200);
    expect(document.json).toEqual(buildOpenApi(allRoutes));
    const docs = await call('GET', '/docs');
    expectStatus(docs, 200);
    expect(docs.contentType).toMatch(/^text\/html/);
    expect(docs.bytes.toString('utf8')).toContain('<script src="docs/redoc.standalone.js"></script>');
    const script = await call('GET', '/docs/redoc.standalone.js');
    expectStatus(script, 200);
    expect(script.contentType).toMatch(/^text\/javascript/);
    expect(script.bytes.equals(readFileSync(createRequire(import.meta.url).resolve('redoc/bundles/redoc.standalone.js')))).toBe(true);
  });

  it('signs in through the bundle (the local stack seeded its logins with it)', async () => {
    const signedIn = await call('POST', '/v1/auth/token', {
      body: { companyId: local.facts.companyId, username: local.facts.staffUsername, password: local.facts.staffPassword },
    });
    expectStatus(signedIn, 200);
    expect(signedIn.json).toMatchObject({ token: expect.any(String), expiresIn: expect.any(Number) });
  });

  it('holds none of the other areas’ modules and no pdfkit', () => {
    const bundle = bundleOf(stack.api.functions.platform);
    const sources = (JSON.parse(readFileSync(join(bundle.assetDir, 'index.mjs.map'), 'utf8')) as { sources: string[] }).sources;
    expect(sources.some((source) => source.includes('functions/platform/'))).toBe(true);
    const foreign = sources.filter((source) => /functions\/(companies|clients|billing|email)\/|node_modules\/pdfkit\//.test(source));
    expect(foreign).toEqual([]);
    expect(readFileSync(join(bundle.assetDir, 'index.mjs'), 'utf8')).not.toContain('#standard-fonts/');
  });
});

describe('the companies bundle', () => {
  it('lists the companies to the operator and reads the company’s settings', async () => {
    const companies = await call('GET', '/v1/companies', { token: local.facts.operatorToken });
    expectStatus(companies, 200);
    expect(companies.json.data.map((company: { id: string }) => company.id)).toContain(local.facts.companyId);
    const settings = await staff('GET', '/v1/settings');
    expectStatus(settings, 200);
    expect(settings.json).toMatchObject({ defaultCurrency: 'USD' });
  });
});

describe('the clients bundle', () => {
  it('creates a client and reads it back', async () => {
    const client = await newClient();
    const read = await staff('GET', `/v1/clients/${client.id}`);
    expectStatus(read, 200);
    expect(read.json).toMatchObject({ id: client.id, email: client.email });
  });
});

describe('the billing bundle', () => {
  it('renders an invoice as a PDF', async () => {
    const invoice = await newInvoice((await newClient()).id);
    const pdf = await staff('GET', `/v1/invoices/${invoice.id}/pdf`);
    expectStatus(pdf, 200);
    expect(isPdf(pdf)).toBe(true);
  });

  it('renders a statement as a PDF', async () => {
    const client = await newClient();
    await newInvoice(client.id);
    const pdf = await staff('GET', `/v1/clients/${client.id}/statement?format=pdf`);
    expectStatus(pdf, 200);
    expect(isPdf(pdf)).toBe(true);
  });

  it('delivers an invoice by mail with its PDF attached', async () => {
    const client = await newClient();
    const invoice = await newInvoice(client.id);
    const delivered = await staff('POST', `/v1/invoices/${invoice.id}/deliver`);
    expectStatus(delivered, 202);
    const mail = await staff('GET', `/v1/emails/${delivered.json.mailId}`);
    expectStatus(mail, 200);
    expect(mail.json).toMatchObject({ status: 'sent', to: [client.email], attachments: [{ contentType: 'application/pdf', size: expect.any(Number) }] });
    expect(mail.json.attachments[0].size).toBeGreaterThan(0);
  });
});

describe('the email bundle', () => {
  it('sends a manual mail and shows it in the client’s mail log', async () => {
    const client = await newClient();
    const sent = await staff('POST', `/v1/clients/${client.id}/emails`, { subject: 'Hello', html: '<p>Hello</p>', text: 'Hello' });
    expectStatus(sent, 201);
    const log = await staff('GET', `/v1/clients/${client.id}/emails`);
    expectStatus(log, 200);
    expect(log.json.data.map((mail: { id: string }) => mail.id)).toEqual([sent.json.id]);
  });
});

describe('the SES events bundle', () => {
  it('marks a sent mail delivered from the SNS notification of its Delivery event', async () => {
    const client = await newClient();
    const sent = await staff('POST', `/v1/clients/${client.id}/emails`, { subject: 'Tracked', html: '<p>Tracked</p>', text: 'Tracked' });
    expectStatus(sent, 201);
    const messageId = (await getMail(local.facts.companyId, sent.json.id))?.entry.messageId;
    expect(messageId).toEqual(expect.any(String));
    const handler = await entryOf<(event: unknown) => Promise<unknown>>(stack.email.eventsFunction);
    const outcome = await handler(sesEventNotification({ type: 'Delivery', messageId: messageId! }, [client.email]));
    expect(outcome).toEqual({ processed: 1, skipped: 0 });
    const mail = await staff('GET', `/v1/emails/${sent.json.id}`);
    expect(mail.json.status).toBe('delivered');
  });
});

describe('the payment reconciler bundle', () => {
  it('settles a stale pending attempt of a stored card as its request asked, from the schedule event', async () => {
    const client = await newClient();
    const invoice = await newInvoice(client.id);
    const account = await staff('POST', `/v1/clients/${client.id}/payment-accounts`, {
      type: 'card',
      card: { number: '4242424242424242', expMonth: 12, expYear: 2099 },
    });
    expectStatus(account, 201);
    // An attempt left behind by a process that stopped after recording it, older than the grace period.
    const createdAt = new Date(Date.now() - 10 * 60_000).toISOString();
    const attempt: Transaction = {
      id: newId('txn'),
      clientId: client.id,
      kind: 'charge',
      method: 'card',
      amount: 1250,
      currency: 'USD',
      status: 'pending',
      applications: [],
      credit: 0,
      refunded: 0,
      date: createdAt.slice(0, 10),
      paymentAccountId: account.json.id,
      reference: null,
      gatewayReference: null,
      livemode: false,
      declineCode: null,
      failureMessage: null,
      refunds: [],
      voidedOn: null,
      createdAt,
      updatedAt: createdAt,
      version: 1,
    };
    const { companyId } = local.facts;
    const apply = [{ invoiceId: invoice.id, amount: 1250 }];
    await insertPendingAttempt(companyId, attempt, [
      putPendingCharge({
        companyId,
        transactionId: attempt.id,
        clientId: client.id,
        apply,
        otherAmount: 0,
        sendReceipt: false,
        description: 'Bundle test',
        sealedToken: null,
        createdAt,
      }),
    ]);

    const handler = await entryOf<(event: unknown) => Promise<unknown>>(stack.reconciler.function);
    expect(await handler({ source: 'aws.scheduler' })).toEqual({ settled: 1, skipped: 0, failed: 0 });
    const settled = await staff('GET', `/v1/transactions/${attempt.id}`);
    expect(settled.json).toMatchObject({ status: 'succeeded', applications: apply, credit: 0 });
  });
});

describe('the automation bundles', () => {
  it('the task function records a page of a run (once) and refuses an event that is not a task', async () => {
    const started = await staff('POST', '/v1/automation/runs', { date: '2027-01-05', tasks: ['voids'], dryRun: true });
    expectStatus(started, 202);
    let run = started.json;
    while (!run.finishedAt) run = (await staff('GET', `/v1/automation/runs/${run.id}`)).json;
    const handler = await entryOf<(event: unknown) => Promise<unknown>>(stack.automation.taskFunction);
    const page = { action: 'page', runId: run.id, companyId: local.facts.companyId, date: '2027-01-05', dryRun: true, task: 'voids', cursor: null };
    // The run's page was recorded by the run itself: this one is the same page again, counted once.
    expect(await handler(page)).toEqual({ cursor: null, done: true, pages: 1, continue: false });
    expect((await staff('GET', `/v1/automation/runs/${run.id}`)).json.tasks).toEqual(run.tasks);
    expect(await handler({ action: 'finish', runId: run.id, companyId: local.facts.companyId })).toEqual({ status: 'succeeded' });
    await expect(handler({ action: 'page', runId: run.id })).rejects.toThrow(/Not a task event/);
  });

  it("the dispatcher starts each company's run for its local date once", async () => {
    const handler = await entryOf<(event: unknown) => Promise<{ started: number; alreadyStarted: number; busy: number; failed: number }>>(
      stack.automation.dispatcher,
    );
    const first = await handler({ source: 'aws.scheduler' });
    expect(first.failed).toBe(0);
    expect(first.started + first.busy).toBeGreaterThan(0);
    const runs = await staff('GET', '/v1/automation/runs');
    const scheduled = runs.json.data.find((r: { trigger: string }) => r.trigger === 'schedule');
    expect(scheduled.executionName).toBe(`${local.facts.companyId}-${scheduled.date}`);
    while (!(await staff('GET', `/v1/automation/runs/${scheduled.id}`)).json.finishedAt);
    const second = await handler({ source: 'aws.scheduler' });
    expect(second).toMatchObject({ started: 0, failed: 0 });
  });
});

describe('the imports bundles', () => {
  it('the imports area presigns an upload; the worker (run by the local imports queue) imports the file and reports its bad rows', async () => {
    const created = await staff('POST', '/v1/imports', { filename: 'bundle clients.csv' });
    expectStatus(created, 201);
    const email = `imported-${randomBytes(4).toString('hex')}@example.com`;
    const csv = `First Name,Last Name,Email,Notes\nImp,Orted,${email},x\n,,nobody@example.com,y\n`;
    const upload = await fetch(created.json.uploadUrl, { method: created.json.uploadMethod, headers: created.json.uploadHeaders, body: csv });
    expect(upload.status).toBe(200);
    let job = created.json;
    for (let i = 0; i < 150 && job.status !== 'completed' && job.status !== 'failed'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      job = (await staff('GET', `/v1/imports/${created.json.id}`)).json;
    }
    expect(job).toMatchObject({ status: 'completed', totalRows: 2, created: 1, failed: 1, unmappedColumns: ['Notes'] });
    const clients = await staff('GET', `/v1/clients?q=${encodeURIComponent(email)}`);
    expect(clients.json.data.map((c: { email: string }) => c.email)).toEqual([email]);
    const errors = await staff('GET', `/v1/imports/${created.json.id}/errors`);
    expectStatus(errors, 200);
    expect(errors.json.data).toEqual([expect.objectContaining({ row: 3 })]);
  });

  it('the worker drops a message that is neither an S3 event nor a chunk, and reports nothing failed for it', async () => {
    const handler = await entryOf<(event: unknown) => Promise<{ batchItemFailures: unknown[] }>>(stack.imports.worker);
    const record = { messageId: 'm-1', body: '{"hello":1}', attributes: { ApproximateReceiveCount: '1' }, eventSource: 'aws:sqs' };
    expect(await handler({ Records: [record] })).toEqual({ batchItemFailures: [] });
    expect(await handler({ Records: [{ ...record, body: JSON.stringify({ Event: 's3:TestEvent' }) }] })).toEqual({ batchItemFailures: [] });
  });
});

describe('the Cognito trigger bundles', () => {
  const [define, create, verify] = ['DefineAuthChallenge', 'CreateAuthChallenge', 'VerifyAuthChallenge'];
  const trigger = (name: string) => {
    const construct = stack.identity.triggers.find((fn) => fn.node.id === name);
    if (!construct) throw new Error(`No trigger ${name}`);
    return entryOf<(event: unknown) => Promise<any>>(construct);
  };

  it('define-auth-challenge asks for the custom challenge first', async () => {
    const event = await (await trigger(define))({ request: { session: [] }, response: {} });
    expect(event.response).toEqual({ challengeName: 'CUSTOM_CHALLENGE', issueTokens: false, failAuthentication: false });
  });

  it('create-auth-challenge names the login-as challenge', async () => {
    const event = await (await trigger(create))({ request: {}, response: {} });
    expect(event.response.publicChallengeParameters).toEqual({ kind: 'login-as' });
  });

  it('verify-auth-challenge accepts the stored answer once', async () => {
    const username = `staff${randomBytes(3).toString('hex')}`;
    const answer = randomBytes(16).toString('hex');
    const poolUsername = scopedUsername(local.facts.companyId, username);
    const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    await documents.send(
      new PutCommand({
        TableName: process.env.BILLOW_TABLE,
        Item: { ...loginAsKey(poolUsername), entity: 'LoginAs', answerHash: hashAnswer(answer), expiresAt: Math.floor(Date.now() / 1000) + 60 },
      }),
    );
    const attempt = () =>
      trigger(verify).then((handler) =>
        handler({
          request: { userAttributes: { [CLAIM.companyId]: local.facts.companyId, [CLAIM.username]: username }, challengeAnswer: answer },
          response: {},
        }),
      );
    expect((await attempt()).response.answerCorrect).toBe(true);
    expect((await attempt()).response.answerCorrect).toBe(false);
  });
});

/** One X-Ray document a traced invocation sent to the daemon. */
interface TraceDocument {
  name: string;
  trace_id: string;
  namespace?: string;
  aws?: { operation?: string; table_name?: string };
}

/**
 * Runs one bundle's entry in a fresh Node process with the environment Lambda gives a traced function (execution
 * environment, trace header, X-Ray daemon address), so Powertools traces as it does in AWS; the daemon is a UDP
 * socket of this test. Returns what the entry answered and the documents of its trace.
 */
async function invokeTraced(bundle: SynthesisedFunction, event: unknown): Promise<{ answer: any; documents: () => TraceDocument[] }> {
  const traceId = `1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;
  const received: TraceDocument[] = [];
  const daemon = createSocket('udp4');
  // Each datagram is a header line, then one segment document.
  daemon.on('message', (message) => received.push(JSON.parse(message.toString('utf8').split('\n')[1])));
  await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
  onTestFinished(() => {
    daemon.close();
  });
  const script = `const entry = (await import(process.argv[1]))[process.argv[2]];
const context = { awsRequestId: 'traced', functionName: 'billow', getRemainingTimeInMillis: () => 5000 };
process.stdout.write(JSON.stringify(await entry(JSON.parse(process.argv[3]), context)));`;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--input-type=module', '-e', script, pathToFileURL(join(bundle.assetDir, 'index.mjs')).href, bundle.exportName, JSON.stringify(event)],
    {
      env: {
        PATH: process.env.PATH,
        AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
        LAMBDA_TASK_ROOT: bundle.assetDir,
        _HANDLER: `index.${bundle.exportName}`,
        _X_AMZN_TRACE_ID: `Root=${traceId};Parent=${randomBytes(8).toString('hex')};Sampled=1`,
        AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${daemon.address().port}`,
        AWS_REGION: process.env.AWS_REGION,
        AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY,
        AWS_ENDPOINT_URL_DYNAMODB: process.env.AWS_ENDPOINT_URL_DYNAMODB,
        BILLOW_TABLE: process.env.BILLOW_TABLE,
        POWERTOOLS_LOG_LEVEL: 'SILENT',
        POWERTOOLS_METRICS_DISABLED: 'true',
      },
    },
  );
  return { answer: JSON.parse(stdout), documents: () => received.filter((document) => document.trace_id === traceId) };
}

/** Each document's name, and the DynamoDB operations with their table. */
const traced = (documents: TraceDocument[]) => ({
  names: [...new Set(documents.map((document) => document.name))].sort(),
  dynamo: documents.filter((document) => document.namespace === 'aws' && document.name === 'DynamoDB').map((document) => document.aws),
});

describe('tracing, on as in Lambda', () => {
  it('an API bundle sends its invocation and its DynamoDB reads to X-Ray as subsegments', async () => {
    const claims = JSON.parse(Buffer.from(local.facts.staffToken.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;
    const { answer, documents } = await invokeTraced(bundleOf(stack.api.functions.companies), {
      version: '2.0',
      routeKey: 'GET /v1/settings',
      rawPath: '/v1/settings',
      rawQueryString: '',
      headers: {},
      isBase64Encoded: false,
      requestContext: {
        requestId: 'traced',
        routeKey: 'GET /v1/settings',
        http: { method: 'GET', path: '/v1/settings', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bundle-test' },
        authorizer: {
          jwt: { claims: Object.fromEntries(Object.entries(claims).map(([name, value]) => [name, typeof value === 'string' ? value : JSON.stringify(value)])) },
        },
      },
    });
    expect(answer.statusCode).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ defaultCurrency: 'USD' });
    await vi.waitFor(() => {
      const { names, dynamo } = traced(documents());
      expect(names).toEqual(['## index.handler', 'DynamoDB']);
      expect(dynamo.every((call) => call?.table_name === process.env.BILLOW_TABLE)).toBe(true);
    });
  });

  it('a Cognito trigger bundle sends its invocation and its DynamoDB delete to X-Ray as subsegments', async () => {
    const verify = stack.identity.triggers.find((fn) => fn.node.id === 'VerifyAuthChallenge')!;
    const { answer, documents } = await invokeTraced(bundleOf(verify), {
      request: { userAttributes: { [CLAIM.companyId]: local.facts.companyId, [CLAIM.username]: 'nobody' }, challengeAnswer: 'not stored' },
      response: {},
    });
    expect(answer.response.answerCorrect).toBe(false);
    await vi.waitFor(() => {
      const { names, dynamo } = traced(documents());
      expect(names).toEqual(['## index.verifyAuthChallenge', 'DynamoDB']);
      expect(dynamo).toEqual([expect.objectContaining({ operation: 'DeleteItem', table_name: process.env.BILLOW_TABLE })]);
    });
  });
});
