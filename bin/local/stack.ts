import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { generateLocalSigningKey, LocalIdentityProvider } from '../../functions/adapters/identity/local.js';
import { buildOpenApi, serveOpenApiDocument } from '../../functions/http/openapi.js';
import { allRoutes } from '../../functions/http/route-table.js';
import { describeExit, startDynamoDbLocal, superviseDynamoDbLocal, LocalStackError, portIsFree, type DynamoDbLocal } from './dynamodb-local.js';
import { ensureTables } from './tables.js';
import { startLocalMail, type LocalMail } from './ses.js';
import { startLocalBlobs, type LocalBlobs } from '../../functions/adapters/blobs/local.js';
import { areaHandlerLoader, createLocalApiServer } from './server.js';
import { handler as reconcilePendingPayments } from '../../functions/billing/payments/reconcile-handler.js';
import { startLocalAutomation } from './automation.js';
import { useLocalImportQueue } from '../../functions/adapters/import-queue/local.js';
import { LOCAL_IMPORTS_BUCKET, LOCAL_IMPORTS_CORS, startLocalImports, type ImportWorkerHandler, type LocalImports } from './imports.js';

const LOCAL_RECONCILE_EVERY_MS = 5 * 60 * 1000;

export interface LocalStackOptions {
  /** Folder for local state (`.billow` in the project root for `npm start`). */
  stateDir: string;
  /** API port; 0 picks a free one. */
  port: number;
  /** Keep DynamoDB in memory (tests) instead of under `<stateDir>/dynamodb`. */
  inMemory?: boolean;
  /** Use an already running DynamoDB (tests share one). */
  dynamoEndpoint?: string;
  /** Table names (tests use fresh ones per file). */
  tables?: { app: string; identity: string };
  /** The area handlers the server invokes. @default the TypeScript sources (the bundle test passes the synthesised bundles) */
  loadHandler?: ReturnType<typeof areaHandlerLoader>;
  /**
   * The import worker the local imports queue invokes. @default the TypeScript source's handler (the bundle test
   * passes the synthesised bundle's)
   */
  loadImportWorker?: () => Promise<ImportWorkerHandler>;
  /** Milliseconds a failed import message stays hidden before it is delivered again (tests: short). @default 2000 */
  importRedeliveryDelayMs?: number;
  /** Told in one line that the stack's own DynamoDB Local died and runs again. @default console.log */
  onDynamoRestarted?: (message: string) => void;
  /**
   * Told that the stack's own DynamoDB Local died too often (or could not be started again) and stays down; the API
   * answers 503 meanwhile, so `npm start` stops. @default console.error of the message
   */
  onDynamoGaveUp?: (error: LocalStackError) => void;
}

export interface LocalFacts {
  apiUrl: string;
  companyId: string;
  staffToken: string;
  staffUsername: string;
  staffPassword: string;
  operatorToken: string;
  operatorUsername: string;
  operatorPassword: string;
  /** The SES stand-in: captured mail at `<mailUrl>/store`, a web view at `<mailUrl>/`. */
  mailUrl: string;
  /** The S3 stand-in (s3rver) holding mail bodies and attachments too big for an item, path-style: `<blobsUrl>/<bucket>/<key>`. */
  blobsUrl: string;
  /** The S3 stand-in, for the AWS CLI or any S3 client: drop a CSV under `imports/<companyId>/` of `importsBucket` to import it. */
  s3: LocalS3Facts;
  /** DynamoDB Local, for the AWS CLI, NoSQL Workbench or any DynamoDB client: everything needed to read the local data. */
  dynamodb: LocalDynamoDbFacts;
}

export interface LocalS3Facts {
  /** `--endpoint-url`, path-style (`<endpoint>/<bucket>/<key>`). */
  endpoint: string;
  region: string;
  /** The only credentials s3rver accepts. */
  accessKeyId: string;
  secretAccessKey: string;
  /** The imports bucket: objects created under `imports/` reach the import worker, as in AWS. */
  importsBucket: string;
}

/** s3rver accepts these and no others (`localS3Client` in functions/adapters/blobs/local.ts signs with them). */
const LOCAL_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface LocalDynamoDbFacts {
  /** `--endpoint-url`; restarted on the same port if it dies. */
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Table name by role: `main` is Billow's one table, `identity` the local identity stand-in's users (Cognito in AWS). */
  tables: { main: string; identity: string };
}

/**
 * The credentials every local process signs DynamoDB requests with. DynamoDB Local 2.x accepts only letters and digits
 * here; it runs with `-sharedDb`, so any key and region would see the same tables, but printing the ones in use
 * spares a reader from knowing that.
 */
const LOCAL_AWS_CREDENTIALS = { accessKeyId: 'billowlocal', secretAccessKey: 'billowlocal' };

export interface LocalStack {
  facts: LocalFacts;
  stop(): Promise<void>;
}

interface Secrets {
  signingSecret: string;
  masterKey: string;
  identityKey: unknown;
  operatorPassword: string;
  staffPassword: string;
}

interface SeedState {
  companyId: string;
}

function readJson<T>(path: string): T | undefined {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : undefined;
}

/** Local secrets, made once and kept (a key added by a newer version is filled in on the next start). */
async function loadSecrets(stateDir: string): Promise<Secrets> {
  const path = join(stateDir, 'secrets.json');
  const existing = readJson<Partial<Secrets>>(path) ?? {};
  const secrets: Secrets = {
    signingSecret: existing.signingSecret ?? randomBytes(32).toString('hex'),
    masterKey: existing.masterKey ?? randomBytes(32).toString('hex'),
    identityKey: existing.identityKey ?? (await generateLocalSigningKey()),
    operatorPassword: existing.operatorPassword ?? randomBytes(9).toString('base64url'),
    staffPassword: existing.staffPassword ?? randomBytes(9).toString('base64url'),
  };
  if (JSON.stringify(secrets) !== JSON.stringify(existing)) writeFileSync(path, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

async function call(apiUrl: string, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(apiUrl + path, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

const OPERATOR_USERNAME = 'operator';
const STAFF_USERNAME = 'admin';

/**
 * Brings up the whole system locally: DynamoDB Local, the same tables as the CDK stack, the local identity
 * stand-in, and the API server over the shared route table; seeds an operator and a demo company once.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  mkdirSync(options.stateDir, { recursive: true });
  const secrets = await loadSecrets(options.stateDir);
  if (options.port !== 0 && !(await portIsFree(options.port))) {
    throw new LocalStackError(
      `Port ${options.port} is already in use: stop whatever is using it or start Billow on another port with BILLOW_PORT=<port> npm start.`,
    );
  }

  const tables = options.tables ?? { app: 'billow', identity: 'billow-identity' };
  let dynamo: DynamoDbLocal | undefined;
  let endpoint = options.dynamoEndpoint;
  if (!endpoint) {
    const dataDir = options.inMemory ? undefined : join(options.stateDir, 'dynamodb');
    const restarted = options.onDynamoRestarted ?? ((message: string) => console.log(message));
    // Without this a crashed Java left the API answering 503 until someone restarted npm start by hand.
    dynamo = superviseDynamoDbLocal(await startDynamoDbLocal({ dataDir }), {
      dataDir,
      onRestarted: ({ exit, now }) => {
        const what = `DynamoDB Local stopped unexpectedly (${describeExit(exit)}); started it again on port ${now.port}`;
        if (dataDir) return restarted(`${what} with the same data.`);
        void ensureTables(new DynamoDBClient({}), tables).then(
          () => restarted(`${what}, empty (it was in memory).`),
          (error: Error) => restarted(`${what}, empty, but its tables could not be made again: ${error.message}`),
        );
      },
      onGaveUp: options.onDynamoGaveUp ?? ((error) => console.error(error.message)),
    });
    endpoint = dynamo.endpoint;
  }
  const region = process.env.AWS_REGION ?? 'us-east-1';
  Object.assign(process.env, {
    BILLOW_RUNTIME: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: LOCAL_AWS_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_AWS_CREDENTIALS.secretAccessKey,
    BILLOW_TABLE: tables.app,
    BILLOW_IDENTITY_TABLE: tables.identity,
    BILLOW_SIGNING_SECRET: secrets.signingSecret,
    BILLOW_LOCAL_MASTER_KEY: secrets.masterKey,
    BILLOW_LOCAL_IDENTITY_KEY: JSON.stringify(secrets.identityKey),
  });
  await ensureTables(new DynamoDBClient({}), tables);
  // The import worker, loaded before the stand-ins start (only DynamoDB Local has to be stopped if it cannot be).
  let worker: ImportWorkerHandler;
  try {
    worker = await (options.loadImportWorker ?? (async () => (await import('../../functions/imports/worker.js')).handler))();
  } catch (error) {
    await dynamo?.stop();
    throw error;
  }
  // The SES stand-in: mail sent by the handlers is captured there (GET <mailUrl>/store, or its web page).
  // The S3 stand-in: mail bodies and attachments too big for an item, under <stateDir>/s3 (kept across restarts).
  let mail: LocalMail | undefined;
  let blobs: LocalBlobs | undefined;
  try {
    mail = await startLocalMail({ port: Number(process.env.BILLOW_SES_PORT ?? 0) });
    const blobsPort = Number(process.env.BILLOW_S3_PORT ?? 0);
    if (blobsPort !== 0 && !(await portIsFree(blobsPort))) {
      throw new LocalStackError(`Port ${blobsPort} (BILLOW_S3_PORT) is already in use: free it or choose another port for the local S3 stand-in.`);
    }
    // The imports bucket lives on the same s3rver: one endpoint for every local S3 client (the AWS CLI included).
    blobs = await startLocalBlobs({
      directory: join(options.stateDir, 's3'),
      port: blobsPort,
      otherBuckets: [{ name: LOCAL_IMPORTS_BUCKET, configs: [LOCAL_IMPORTS_CORS] }],
    });
  } catch (error) {
    await mail?.stop();
    await dynamo?.stop();
    throw error;
  }

  // The deployed platform function reads the document the CDK app built; here the route table is in-process.
  serveOpenApiDocument(() => buildOpenApi(allRoutes));
  const server = createLocalApiServer(allRoutes, options.loadHandler ?? areaHandlerLoader());
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'EADDRINUSE'
            ? new LocalStackError(`Port ${options.port} is already in use: start Billow on another port with BILLOW_PORT=<port> npm start.`)
            : error,
        ),
      );
      server.listen(options.port, '127.0.0.1', () => resolve());
    });
  } catch (error) {
    // Taken after the check above: what already runs must not outlive this process (Java would).
    await blobs.stop();
    await mail.stop();
    await dynamo?.stop();
    throw error;
  }
  const port = (server.address() as { port: number }).port;
  const apiUrl = `http://127.0.0.1:${port}`;
  process.env.BILLOW_APP_URL ??= apiUrl;
  // The EventBridge schedule of the deployed reconciler (lib/reconciler.ts), here a timer calling the same handler.
  const reconciler = setInterval(() => {
    reconcilePendingPayments({}).catch((error: unknown) => console.error(`Reconciling pending payments: ${(error as Error).message}`));
  }, LOCAL_RECONCILE_EVERY_MS);
  reconciler.unref();
  // The run state machine (the synthesised definition under aws-local-stepfunctions) and its hourly dispatcher.
  const automation = startLocalAutomation();
  // Imports: the bucket's object-created events → the in-process queue → the import worker (lib/imports.ts in AWS);
  // the worker's chunk messages reach the same queue through the local import-queue adapter.
  process.env.BILLOW_IMPORTS_BUCKET = LOCAL_IMPORTS_BUCKET;
  const imports: LocalImports = startLocalImports({
    s3Events: blobs.events,
    bucket: LOCAL_IMPORTS_BUCKET,
    handler: worker,
    redeliveryDelayMs: options.importRedeliveryDelayMs,
  });
  useLocalImportQueue(imports.queue);

  const stop = async () => {
    clearInterval(reconciler);
    await automation.stop();
    useLocalImportQueue(undefined);
    await imports.stop();
    await new Promise<void>((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    });
    await blobs?.stop();
    await mail?.stop();
    await dynamo?.stop();
  };

  try {
    const facts = {
      ...(await seed(apiUrl, options.stateDir, secrets, tables.identity)),
      mailUrl: mail.endpoint,
      blobsUrl: blobs.endpoint,
      s3: { endpoint: blobs.endpoint, region: 'us-east-1', ...LOCAL_S3_CREDENTIALS, importsBucket: LOCAL_IMPORTS_BUCKET },
      dynamodb: {
        endpoint,
        region,
        ...LOCAL_AWS_CREDENTIALS,
        tables: { main: tables.app, identity: tables.identity },
      },
    };
    writeFileSync(join(options.stateDir, 'local.json'), `${JSON.stringify(facts, null, 2)}\n`);
    return { facts, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function seed(
  apiUrl: string,
  stateDir: string,
  secrets: Secrets,
  identityTable: string,
): Promise<Omit<LocalFacts, 'mailUrl' | 'blobsUrl' | 's3' | 'dynamodb'>> {
  const identity = new LocalIdentityProvider(identityTable);
  if (!(await identity.authenticate(undefined, OPERATOR_USERNAME, secrets.operatorPassword))) {
    await identity.createUser({ username: OPERATOR_USERNAME, password: secrets.operatorPassword, role: 'operator' });
  }
  const operator = await call(apiUrl, 'POST', '/v1/auth/token', { username: OPERATOR_USERNAME, password: secrets.operatorPassword });
  if (operator.status !== 200) throw new LocalStackError(`The local operator login failed (${operator.status}).`);
  const operatorToken = operator.json.token as string;

  const statePath = join(stateDir, 'seed.json');
  let state = readJson<SeedState>(statePath);
  let staff =
    state && (await call(apiUrl, 'POST', '/v1/auth/token', { companyId: state.companyId, username: STAFF_USERNAME, password: secrets.staffPassword }));
  if (!state || !staff || staff.status !== 200) {
    const created = await call(
      apiUrl,
      'POST',
      '/v1/companies',
      {
        name: 'Demo Hosting Co',
        defaultCurrency: 'USD',
        timeZone: 'America/New_York',
        staff: { username: STAFF_USERNAME, email: 'admin@demo.billow.local', password: secrets.staffPassword },
      },
      operatorToken,
    );
    if (created.status !== 201) throw new LocalStackError(`Seeding the demo company failed (${created.status}): ${JSON.stringify(created.json)}`);
    state = { companyId: created.json.id as string };
    writeFileSync(statePath, JSON.stringify(state, null, 2));
    staff = await call(apiUrl, 'POST', '/v1/auth/token', { companyId: state.companyId, username: STAFF_USERNAME, password: secrets.staffPassword });
  }
  return {
    apiUrl,
    companyId: state.companyId,
    staffToken: staff.json.token as string,
    staffUsername: STAFF_USERNAME,
    staffPassword: secrets.staffPassword,
    operatorToken,
    operatorUsername: OPERATOR_USERNAME,
    operatorPassword: secrets.operatorPassword,
  };
}
