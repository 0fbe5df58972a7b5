import type { IdentityProvider } from './adapters/identity/port.js';
import type { SecretSource } from './adapters/secrets/port.js';
import { LocalIdentityProvider } from './adapters/identity/local.js';
import { CognitoIdentityProvider } from './adapters/identity/cognito.js';
import { SecretsManagerSource } from './adapters/secrets/aws.js';
import { EnvSecretSource } from './adapters/secrets/local.js';
import type { Mailer } from './adapters/mailer/port.js';
import { SesMailer } from './adapters/mailer/ses.js';
import { localSesClient } from './adapters/mailer/local.js';
import type { PaymentGateway } from './adapters/gateway/port.js';
import { LocalGateway } from './adapters/gateway/local.js';
import { SecretStripeGateway } from './adapters/gateway/aws.js';
import type { EnvelopeCipher } from './adapters/crypto/port.js';
import { KmsEnvelopeCipher } from './adapters/crypto/kms.js';
import { LocalEnvelopeCipher } from './adapters/crypto/local.js';
import type { BlobStore } from './adapters/blobs/port.js';
import { S3BlobStore } from './adapters/blobs/s3.js';
import { localBlobStore } from './adapters/blobs/local.js';
import type { Workflow } from './adapters/workflow/port.js';
import { StepFunctionsWorkflow } from './adapters/workflow/sfn.js';
import { localWorkflow } from './adapters/workflow/local.js';
import type { ImportFiles } from './adapters/import-files/port.js';
import { S3ImportFiles } from './adapters/import-files/s3.js';
import { localImportFiles } from './adapters/import-files/local.js';
import type { ImportQueue } from './adapters/import-queue/port.js';
import { SqsImportQueue } from './adapters/import-queue/sqs.js';
import { localImportQueue } from './adapters/import-queue/local.js';

/**
 * The adapters a handler needs, chosen once per container from the environment: `BILLOW_RUNTIME=aws` (set by
 * the CDK stack) picks the AWS implementations; anything else the local stand-ins.
 */
export interface Services {
  identity: IdentityProvider;
  secrets: SecretSource;
  /** Stripe when `BILLOW_GATEWAY=stripe` in AWS; otherwise the simulator with its documented test numbers. */
  gateway: PaymentGateway;
  /** Envelope encryption for the payment details Billow keeps (KMS in AWS, a local key otherwise). */
  cipher: EnvelopeCipher;
  /** SES in AWS (with the configuration set that publishes delivery events); the SES stand-in locally. */
  mailer: Mailer;
  /** Objects too large for a table item (mail bodies, attachments): S3 in AWS, an in-process s3rver locally. */
  blobs: BlobStore;
  /** Starts automation runs: the Step Functions state machine in AWS, the same definition run in-process locally. */
  workflow: Workflow;
  /** The imports bucket (uploads, drops, error reports): S3 in AWS, s3rver locally. */
  importFiles: ImportFiles;
  /** The imports queue (object-created events, chunk messages): SQS in AWS, an in-process queue locally. */
  importQueue: ImportQueue;
}

let services: Services | undefined;

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

type Factories = { [K in keyof Services]: () => Services[K] };

const AWS: Factories = {
  identity: () => new CognitoIdentityProvider(required('BILLOW_USER_POOL_ID'), required('BILLOW_USER_POOL_CLIENT_ID'), required('BILLOW_TABLE')),
  secrets: () => new SecretsManagerSource(required('BILLOW_SIGNING_SECRET_ARN')),
  gateway: () => (process.env.BILLOW_GATEWAY === 'stripe' ? new SecretStripeGateway(required('BILLOW_STRIPE_SECRET_ARN')) : new LocalGateway()),
  cipher: () => new KmsEnvelopeCipher({ keyId: required('BILLOW_KMS_KEY_ID') }),
  mailer: () => new SesMailer({ configurationSetName: process.env.BILLOW_SES_CONFIGURATION_SET || undefined }),
  blobs: () => new S3BlobStore({ bucket: required('BILLOW_BLOB_BUCKET') }),
  workflow: () => new StepFunctionsWorkflow(required('BILLOW_STATE_MACHINE_ARN')),
  importFiles: () => new S3ImportFiles({ bucket: required('BILLOW_IMPORTS_BUCKET') }),
  importQueue: () => new SqsImportQueue(required('BILLOW_IMPORTS_QUEUE_URL')),
};

const LOCAL: Factories = {
  identity: () => new LocalIdentityProvider(required('BILLOW_IDENTITY_TABLE')),
  secrets: () => new EnvSecretSource(),
  gateway: () => new LocalGateway(),
  cipher: () => new LocalEnvelopeCipher(),
  mailer: () => localMailer(),
  blobs: () => localBlobStore(),
  workflow: () => localWorkflow(),
  importFiles: () => localImportFiles(),
  importQueue: () => localImportQueue(),
};

/** The SES stand-in's endpoint is read per message: the local stack may start (or restart) it after first use. */
function localMailer(): Mailer {
  let current: { endpoint: string; mailer: SesMailer } | undefined;
  return {
    send: (message) => {
      const endpoint = required('BILLOW_LOCAL_SES_ENDPOINT');
      if (current?.endpoint !== endpoint) current = { endpoint, mailer: new SesMailer({ client: localSesClient(endpoint) }) };
      return current.mailer.send(message);
    },
  };
}

/** An object whose members are built on first use and then kept. */
function lazily(factories: Factories): Services {
  const built: Partial<Services> = {};
  const result = {} as Services;
  for (const key of Object.keys(factories) as Array<keyof Services>) {
    Object.defineProperty(result, key, { enumerable: true, get: () => (built[key] ??= factories[key]() as never) });
  }
  return result;
}

/**
 * The container's adapters. Each is built when first used, from its own environment only: in AWS a Lambda gets
 * the variables (and grants) of the adapters its area uses (`lib/api.ts`, AREA_ACCESS), not all of them.
 */
export function getServices(): Services {
  services ??= lazily(process.env.BILLOW_RUNTIME === 'aws' ? AWS : LOCAL);
  return services;
}

/** Tests swap one adapter (e.g. a failing gateway) without touching the environment or building the others. */
export function overrideServices(partial: Partial<Services>): void {
  services = Object.defineProperties({} as Services, { ...Object.getOwnPropertyDescriptors(getServices()), ...Object.getOwnPropertyDescriptors(partial) });
}
