import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { NodejsFunction, OutputFormat, type NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { ADAPTERS, type Adapter, omitFlag } from '../functions/services.js';
import type { BillowTable, TableAccess } from './data.js';
import type { BillowEmail } from './email.js';
import type { BillowIdentity } from './identity.js';

/** The repository root (this file lives in `lib/`). */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Path of a source file under `functions/`. */
export function functionEntry(...segments: string[]): string {
  return path.join(REPO_ROOT, 'functions', ...segments);
}

/**
 * The newest Node.js runtime this aws-cdk-lib offers. Keep in step with cdk-nag's AwsSolutions-L1 when
 * aws-cdk-lib is upgraded.
 */
export const NODE_RUNTIME = lambda.Runtime.NODEJS_24_X;

/**
 * What a function may do in the blob store (`functions/adapters/blobs/`), each on its key prefix only
 * (`BLOB_ACCESS_PREFIX`):
 * - `readWrite`: GetObject and PutObject on `mail/` (the mailers: they write bodies that do not fit in an item and
 *   read them back for `GET /v1/emails/{id}` and re-sends);
 * - `delete`: DeleteObject on `mail/`, which DeleteObjects needs for each key (client delete);
 * - `export`: PutObject (a multipart upload, which AbortMultipartUpload ends on failure) and GetObject (the presigned
 *   link is signed with the function's role) on `exports/` (a clients export too large to answer inline).
 * No `s3:ListBucket`: a missing key reads as AccessDenied, which the adapter throws (see its port).
 */
export type BlobAccess = 'readWrite' | 'delete' | 'export';

export const BLOB_ACTIONS: Record<BlobAccess, readonly string[]> = {
  readWrite: ['s3:GetObject', 's3:PutObject'],
  delete: ['s3:DeleteObject'],
  export: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
};

/** The key prefix of mail blobs (`mailBodyKey`/`mailAttachmentKey` in `functions/store/keys.ts`). */
export const BLOB_KEY_PREFIX = 'mail/';
/** The key prefix of clients exports (`clientExportKey` in `functions/store/keys.ts`); the bucket expires them. */
export const EXPORT_KEY_PREFIX = 'exports/';

export const BLOB_ACCESS_PREFIX: Record<BlobAccess, string> = { readWrite: BLOB_KEY_PREFIX, delete: BLOB_KEY_PREFIX, export: EXPORT_KEY_PREFIX };

/**
 * The key prefixes of the imports bucket (`lib/imports.ts`): files to import arrive under `imports/` (API uploads at
 * `imports/<companyId>/<importId>/<filename>`, ops drops at `imports/<companyId>/<name>.csv`), and error reports are
 * written under `reports/` (`reports/<companyId>/<importId>/errors.csv`). The keys themselves are made in
 * `functions/store/keys.ts`.
 */
export const IMPORT_UPLOAD_PREFIX = 'imports/';
export const IMPORT_REPORT_PREFIX = 'reports/';

/**
 * What a function may do in the imports bucket, on objects under the two prefixes only (nothing on the bucket itself):
 * - `upload`: the imports API area presigns the PUT of a file to import (PutObject on `imports/`, the URL carries the
 *   function's own permission) and reads error reports back (GetObject on `reports/`);
 * - `process`: the import worker reads the file (GetObject on `imports/`, HeadObject included) and writes the error
 *   report (PutObject on `reports/`); and it may list the bucket (`IMPORT_PROCESS_BUCKET_ACTIONS`), without which S3
 *   answers a HeadObject of a key that is gone (an event of an object deleted since) with 403 rather than 404.
 * The API area gets no ListBucket: it never reads a key that may be missing.
 */
export type ImportFilesAccess = 'upload' | 'process';

export const IMPORT_FILES_ACTIONS: Record<ImportFilesAccess, ReadonlyArray<{ action: string; prefix: string }>> = {
  upload: [
    { action: 's3:PutObject', prefix: IMPORT_UPLOAD_PREFIX },
    { action: 's3:GetObject', prefix: IMPORT_REPORT_PREFIX },
  ],
  process: [
    { action: 's3:GetObject', prefix: IMPORT_UPLOAD_PREFIX },
    { action: 's3:PutObject', prefix: IMPORT_REPORT_PREFIX },
  ],
};

/** Actions of the import worker on the imports bucket itself (see `ImportFilesAccess`). */
export const IMPORT_PROCESS_BUCKET_ACTIONS = ['s3:ListBucket'] as const;

/** esbuild's ESM output has no `require`; some CommonJS dependencies still call it. */
const ESM_REQUIRE_BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/**
 * The esbuild options of every Billow bundle, as esbuild's build API takes them: `BillowFunction` hands them to CDK
 * (which passes them to esbuild's command line, with the target of `NODE_RUNTIME`), and the bundle benchmark and
 * tests rebuild an entry with them to read its metafile (bench/bundles.ts checks that the rebuild is byte for byte
 * the synthesised `index.mjs`).
 */
export const BUNDLE_OPTIONS = {
  bundle: true,
  // pdfkit's font-file parser, which standard fonts do not use, and semver, of which the X-Ray SDK calls one function
  // on a path the tracer never takes (see the modules they are replaced with).
  alias: { fontkit: './functions/billing/standard-fonts-only.ts', semver: './functions/bundle-aliases/semver-gte.ts' },
  platform: 'node',
  target: 'node24',
  format: 'esm',
  mainFields: ['module', 'main'],
  banner: { js: ESM_REQUIRE_BANNER },
  minify: true,
  sourcemap: true,
  sourcesContent: false,
} as const;

/**
 * pdfkit loads the metrics of its standard fonts (Helvetica, …) when a document first uses one, through its own
 * `createRequire(import.meta.url)` and its package-internal specifiers `#standard-fonts/<name>`. esbuild cannot see
 * through that `require`, so the specifiers stay in the bundle, and Node resolves them from the nearest package.json
 * of the bundle, which has none. A bundle that asks for them gets pdfkit's font modules copied next to it and a
 * package.json with pdfkit's own `imports` entry for them, so they resolve exactly as they do inside pdfkit.
 */
const STANDARD_FONTS_SPECIFIER = '#standard-fonts/';

interface StandardFontModules {
  /** The font modules' folder inside pdfkit, relative to the pdfkit package (`js/standard-fonts`). */
  folder: string;
  /** Its absolute path. */
  source: string;
  /** The package.json that maps `#standard-fonts/*` from a bundle to the copied folder. */
  packageJson: string;
}

function standardFontModules(): StandardFontModules {
  let root = path.dirname(createRequire(import.meta.url).resolve('pdfkit'));
  while (!existsSync(path.join(root, 'package.json'))) root = path.dirname(root);
  const imports = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { imports?: Record<string, unknown> }).imports ?? {};
  const key = `${STANDARD_FONTS_SPECIFIER}*`;
  const target = imports[key];
  if (typeof target !== 'string' || !target.startsWith('./') || !target.endsWith('/*.cjs')) {
    throw new Error(`pdfkit no longer maps '${key}' to a folder of modules; revisit the font copying in lib/function.ts`);
  }
  const folder = path.posix.dirname(target.slice(2));
  return { folder, source: path.join(root, folder), packageJson: JSON.stringify({ imports: { [key]: target } }) };
}

/** Single-quotes a word for the bundling shell. */
const shellWord = (word: string) => `'${word.replace(/'/g, "'\\''")}'`;

/**
 * Writes a generated file where the bundling step copies it from: named by its content, so a synth with other
 * content never reuses it and the same content always yields the same bundle.
 */
function stageGeneratedFile(content: string): string {
  const folder = path.join(tmpdir(), 'billow-bundle-files', createHash('sha256').update(content).digest('hex'));
  const file = path.join(folder, 'content');
  if (!existsSync(file)) {
    mkdirSync(folder, { recursive: true });
    writeFileSync(file, content);
  }
  return file;
}

/**
 * Shell commands run after esbuild (the bundling is local: esbuild is a dev dependency), in the asset's output
 * folder: the generated files, then pdfkit's standard fonts when the bundle asks for them.
 */
function afterBundlingCommands(outputDir: string, files: Record<string, string>): string[] {
  const commands = Object.entries(files).map(([name, content]) => `cp ${shellWord(stageGeneratedFile(content))} ${shellWord(path.join(outputDir, name))}`);
  const fonts = standardFontModules();
  const fontsTarget = path.join(outputDir, fonts.folder);
  commands.push(
    `if grep -qF ${shellWord(STANDARD_FONTS_SPECIFIER)} ${shellWord(path.join(outputDir, 'index.mjs'))}; then ` +
      `mkdir -p ${shellWord(path.dirname(fontsTarget))} && cp -R ${shellWord(fonts.source)} ${shellWord(fontsTarget)} && ` +
      `printf '%s' ${shellWord(fonts.packageJson)} > ${shellWord(path.join(outputDir, 'package.json'))}; fi`,
  );
  return commands;
}

export interface BillowFunctionProps {
  /** Path of the entry file (`functionEntry('clients', 'handler.ts')`). */
  entry: string;
  /** Exported handler name. @default 'handler' */
  handler?: string;
  description?: string;
  /** @default 1024 MB (ARM cold starts and CPU scale with memory) */
  memorySize?: number;
  /** @default 20 seconds */
  timeout?: Duration;
  /** @default one month */
  logRetention?: logs.RetentionDays;
  environment?: Record<string, string>;
  /**
   * Files generated at synth time and shipped next to the bundle, by name (the code reads them relative to
   * `import.meta.url`).
   */
  files?: Record<string, string>;
  /**
   * The adapters of `getServices()` (`functions/services.ts`) its code uses: the bundle holds only these (the others'
   * code and SDK clients are left out, `bundleDefines`), and only these may be bound (`bindMailer`, …).
   */
  adapters: readonly Adapter[];
}

/**
 * esbuild `define`s that leave out of a bundle the adapters its function does not use: `services.ts` tests each
 * adapter's flag, esbuild folds the test to a constant and drops what only the other branch referenced.
 */
export function bundleDefines(adapters: readonly Adapter[]): Record<string, string> {
  return Object.fromEntries(ADAPTERS.filter((adapter) => !adapters.includes(adapter)).map((adapter) => [omitFlag(adapter), JSON.stringify('true')]));
}

/**
 * Every Billow Lambda: newest Node runtime, ARM64, minified ESM bundle with source maps, active tracing, its
 * own log group with retention, and its own role that starts with nothing but write access to that log
 * group. Grants are added with the `bind*` helpers, which set the matching environment variable in the
 * same call, so a function can only name what it may use.
 */
export class BillowFunction extends NodejsFunction {
  /** The function's own log group (the base class's `logGroup` getter returns it as `ILogGroup`). */
  readonly functionLogGroup: logs.LogGroup;
  /** The function's own execution role. */
  readonly executionRole: iam.Role;
  /** The source file its bundle is built from. */
  readonly entry: string;
  /** The adapters its bundle holds (`BillowFunctionProps.adapters`). */
  readonly adapters: readonly Adapter[];

  constructor(scope: Construct, id: string, props: BillowFunctionProps) {
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${id}`,
    });
    const functionProps: NodejsFunctionProps = {
      entry: props.entry,
      handler: props.handler ?? 'handler',
      description: props.description,
      runtime: NODE_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.seconds(20),
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      role,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      bundling: {
        format: OutputFormat.ESM,
        target: BUNDLE_OPTIONS.target,
        mainFields: [...BUNDLE_OPTIONS.mainFields],
        banner: BUNDLE_OPTIONS.banner.js,
        minify: BUNDLE_OPTIONS.minify,
        sourceMap: BUNDLE_OPTIONS.sourcemap,
        sourcesContent: BUNDLE_OPTIONS.sourcesContent,
        define: bundleDefines(props.adapters),
        // CDK has no alias option: each becomes `--alias:<package>=<path>` on esbuild's command line.
        esbuildArgs: { '--alias': Object.entries(BUNDLE_OPTIONS.alias).map(([from, to]) => `${from}=${to}`) },
        // Bundle the SDK so the deployed code runs the versions pinned in package-lock.json.
        bundleAwsSDK: true,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_inputDir, outputDir) => afterBundlingCommands(outputDir, props.files ?? {}),
        },
      },
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
    };
    super(scope, id, functionProps);
    this.functionLogGroup = logGroup;
    this.executionRole = role;
    this.entry = props.entry;
    this.adapters = props.adapters;
    logGroup.grantWrite(role);
    // Active tracing adds xray:PutTraceSegments/PutTelemetryRecords on `*`. The infra tests assert that `*`
    // never appears on any other action of these roles.
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only X-Ray tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) uses Resource *: those actions support no resource-level permissions. test/lib/billow-stack.integration.test.ts asserts no other statement of a Billow function role uses *.',
    });
  }

  /** The esbuild options its bundle was built with (the bundle benchmark and tests rebuild it for its metafile). */
  bundleOptions() {
    return { ...BUNDLE_OPTIONS, mainFields: [...BUNDLE_OPTIONS.mainFields], entryPoints: [this.entry], define: bundleDefines(this.adapters) };
  }

  /** A grant for an adapter the bundle left out would be a grant nothing can use. */
  private requireAdapter(adapter: Adapter): void {
    if (!this.adapters.includes(adapter))
      throw new Error(`${this.node.path} binds the ${adapter} adapter but its bundle holds no ${adapter} (add it to its adapters)`);
  }

  /** Grants table access (table and each named index, no wildcard, no Scan) and sets `BILLOW_TABLE`. */
  bindTable(table: BillowTable, access: TableAccess): this {
    table.grant(this, access);
    this.addEnvironment('BILLOW_TABLE', table.table.tableName);
    return this;
  }

  /** Grants the Cognito admin actions the identity adapter uses, on this pool only, and sets the pool ids. */
  bindIdentity(identity: BillowIdentity): this {
    this.requireAdapter('identity');
    identity.grantAdmin(this);
    this.addEnvironment('BILLOW_USER_POOL_ID', identity.userPool.userPoolId);
    this.addEnvironment('BILLOW_USER_POOL_CLIENT_ID', identity.client.userPoolClientId);
    return this;
  }

  /** Grants read of the cursor-signing secret and sets `BILLOW_SIGNING_SECRET_ARN`. */
  bindSigningSecret(secret: secretsmanager.ISecret): this {
    this.requireAdapter('secrets');
    secret.grantRead(this);
    this.addEnvironment('BILLOW_SIGNING_SECRET_ARN', secret.secretArn);
    return this;
  }

  /**
   * Grants SES SendEmail/SendRawEmail from the sender identity through the configuration set (nothing else) and
   * sets `BILLOW_SES_CONFIGURATION_SET`, `BILLOW_MAIL_FROM` and `BILLOW_APP_URL` (links in mail).
   */
  bindMailer(email: BillowEmail): this {
    this.requireAdapter('mailer');
    email.grantSend(this);
    this.addEnvironment('BILLOW_SES_CONFIGURATION_SET', email.configurationSet.configurationSetName);
    this.addEnvironment('BILLOW_MAIL_FROM', email.mailFrom);
    this.addEnvironment('BILLOW_APP_URL', email.appUrl);
    return this;
  }

  /**
   * Grants the blob-store actions of `access` on the bucket's objects under `BLOB_KEY_PREFIX` (and nothing on the
   * bucket itself) and sets `BILLOW_BLOB_BUCKET`. Call once per access a function needs.
   */
  bindBlobs(bucket: s3.IBucket, access: BlobAccess): this {
    this.requireAdapter('blobs');
    const prefix = BLOB_ACCESS_PREFIX[access];
    const objects = bucket.arnForObjects(`${prefix}*`);
    iam.Grant.addToPrincipal({ grantee: this, actions: [...BLOB_ACTIONS[access]], resourceArns: [objects] });
    this.addEnvironment('BILLOW_BLOB_BUCKET', bucket.bucketName);
    const bucketResource = bucket.node.defaultChild as s3.CfnBucket | undefined;
    if (bucketResource) {
      Validations.of(this.executionRole).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${Stack.of(bucket).getLogicalId(bucketResource)}.Arn>/${prefix}*]`,
        reason: `Blob keys are made per mail or export (${prefix}<companyId>/<id>/...), so object actions need the key-prefix wildcard; the grants name only the object actions of the function's blob access, on that prefix of the one blob bucket.`,
      });
    }
    return this;
  }

  /**
   * Grants the imports-bucket actions of `access`, each on its key prefix only (`IMPORT_FILES_ACTIONS`), and sets
   * `BILLOW_IMPORTS_BUCKET`.
   */
  bindImportFiles(bucket: s3.IBucket, access: ImportFilesAccess): this {
    this.requireAdapter('importFiles');
    for (const { action, prefix } of IMPORT_FILES_ACTIONS[access]) {
      iam.Grant.addToPrincipal({ grantee: this, actions: [action], resourceArns: [bucket.arnForObjects(`${prefix}*`)] });
    }
    if (access === 'process') iam.Grant.addToPrincipal({ grantee: this, actions: [...IMPORT_PROCESS_BUCKET_ACTIONS], resourceArns: [bucket.bucketArn] });
    this.addEnvironment('BILLOW_IMPORTS_BUCKET', bucket.bucketName);
    const bucketResource = bucket.node.defaultChild as s3.CfnBucket | undefined;
    if (bucketResource) {
      for (const prefix of new Set(IMPORT_FILES_ACTIONS[access].map((grant) => grant.prefix))) {
        Validations.of(this.executionRole).acknowledge({
          id: `AwsSolutions-IAM5[Resource::<${Stack.of(bucket).getLogicalId(bucketResource)}.Arn>/${prefix}*]`,
          reason: `Import files and reports are keyed per company and import (${prefix}<companyId>/...), so object actions need the key-prefix wildcard; the grants name only the object actions of the function's import access, each on its one prefix of the imports bucket.`,
        });
      }
    }
    return this;
  }

  /** Grants sqs:SendMessage on the imports queue only (a first worker fans a file out in chunk messages), and sets `BILLOW_IMPORTS_QUEUE_URL`. */
  bindImportQueue(queue: sqs.IQueue): this {
    this.requireAdapter('importQueue');
    iam.Grant.addToPrincipal({ grantee: this, actions: ['sqs:SendMessage'], resourceArns: [queue.queueArn] });
    this.addEnvironment('BILLOW_IMPORTS_QUEUE_URL', queue.queueUrl);
    return this;
  }

  /** Grants kms:GenerateDataKey and kms:Decrypt on the payment-details key only, and sets `BILLOW_KMS_KEY_ID`. */
  bindPaymentKey(key: kms.IKey): this {
    this.requireAdapter('cipher');
    iam.Grant.addToPrincipal({ grantee: this, actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resourceArns: [key.keyArn] });
    this.addEnvironment('BILLOW_KMS_KEY_ID', key.keyArn);
    return this;
  }

  /** Grants read of the Stripe secret key and selects the Stripe gateway (`BILLOW_GATEWAY`, `BILLOW_STRIPE_SECRET_ARN`). */
  bindGatewaySecret(secret: secretsmanager.ISecret): this {
    this.requireAdapter('gateway');
    secret.grantRead(this);
    this.addEnvironment('BILLOW_GATEWAY', 'stripe');
    this.addEnvironment('BILLOW_STRIPE_SECRET_ARN', secret.secretArn);
    return this;
  }

  /** Grants states:StartExecution on the automation state machine only, and sets `BILLOW_STATE_MACHINE_ARN`. */
  bindWorkflow(stateMachine: sfn.IStateMachine): this {
    this.requireAdapter('workflow');
    iam.Grant.addToPrincipal({ grantee: this, actions: ['states:StartExecution'], resourceArns: [stateMachine.stateMachineArn] });
    this.addEnvironment('BILLOW_STATE_MACHINE_ARN', stateMachine.stateMachineArn);
    return this;
  }
}
