import type { BlobStore } from './adapters/blobs/port.js';
import type { EnvelopeCipher } from './adapters/crypto/port.js';
import { LocalGateway } from './adapters/gateway/local.js';
import type { PaymentGateway } from './adapters/gateway/port.js';
import type { IdentityProvider } from './adapters/identity/port.js';
import { CognitoIdentityProvider } from './adapters/identity/cognito.js';
import { LocalIdentityProvider } from './adapters/identity/local.js';
import type { ImportFiles } from './adapters/import-files/port.js';
import type { ImportQueue } from './adapters/import-queue/port.js';
import type { Mailer } from './adapters/mailer/port.js';
import type { SecretSource } from './adapters/secrets/port.js';
import { SecretsManagerSource } from './adapters/secrets/aws.js';
import { EnvSecretSource } from './adapters/secrets/local.js';
import type { Workflow } from './adapters/workflow/port.js';
import { StepFunctionsWorkflow } from './adapters/workflow/sfn.js';
import { localWorkflow } from './adapters/workflow/local-registry.js';
import { gatewayWithFaults, mailerWithFaults } from './faults/ports.js';

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

export type Adapter = keyof Services;

/** The flag that leaves an adapter out of a bundle: `importFiles` → `process.env.BILLOW_OMIT_IMPORT_FILES`. */
export const omitFlag = (adapter: Adapter): string => `process.env.BILLOW_OMIT_${adapter.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

/** Both implementations of an adapter; `BILLOW_RUNTIME` picks one per container. */
interface Choice<K extends Adapter> {
  aws: () => Services[K];
  local: () => Services[K];
}

type Choices = { [K in Adapter]: Choice<K> };

/** What a bundle has instead of an adapter its function does not use (`lib/api.ts` AREA_ACCESS says which it uses). */
function omitted<K extends Adapter>(adapter: K): Choice<K> {
  const fail = (): never => {
    throw new Error(
      `The ${adapter} adapter is not in this function's bundle: name it in the function's adapters (lib/api.ts AREA_ACCESS, or its BillowFunction)`,
    );
  };
  return { aws: fail, local: fail };
}

/**
 * An adapter whose module is imported when it is first called, not when the function starts: a cold start loads only
 * the SDK clients (and mail composer, stand-ins, …) of the adapters its request uses. Every port member is an async
 * method, so a call can wait for the import. A failed import is tried again on the next call.
 */
function onFirstCall<T extends object>(load: () => Promise<T>, known: Partial<T> = {}): T {
  let loading: Promise<T> | undefined;
  const adapter = () => {
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
  return new Proxy(known as T, {
    // `then` stays undefined, so awaiting the adapter itself does not take it for a promise.
    get: (target, member) =>
      member in target
        ? target[member as keyof T]
        : member === 'then' || typeof member === 'symbol'
          ? undefined
          : async (...args: unknown[]) => {
              const loaded = (await adapter()) as Record<string, (...args: unknown[]) => unknown>;
              return loaded[member](...args);
            },
  });
}

/*
 * Each function's bundle holds only the adapters its function uses. The CDK app bundles a function with
 * `process.env.BILLOW_OMIT_<ADAPTER>` defined as "true" for each other adapter (`omitFlag`, `lib/function.ts`);
 * esbuild folds that test to a constant, and the adapter's code, its stand-in and its SDK client are dropped from the
 * bundle. From the sources (the local stack, tests, scripts) no flag is set and every adapter is there.
 * The environment an adapter needs is read when it is first asked for (a missing variable fails there). The adapters
 * with a large SDK client or library (S3, SES with the mail composer, KMS, SQS, the Stripe gateway) are imported on
 * their first call (`onFirstCall`), so a cold start does not load them; the small ones (Cognito, Secrets Manager, Step
 * Functions, the simulated gateway) are imported with this module: esbuild keeps every export of a module it loads
 * on demand (and of the SDK client behind it), which costs them more bytes than their load costs time.
 */
const CHOICES: Choices = {
  identity:
    process.env.BILLOW_OMIT_IDENTITY === 'true'
      ? omitted('identity')
      : {
          aws: () => new CognitoIdentityProvider(required('BILLOW_USER_POOL_ID'), required('BILLOW_USER_POOL_CLIENT_ID'), required('BILLOW_TABLE')),
          local: () => new LocalIdentityProvider(required('BILLOW_IDENTITY_TABLE')),
        },
  secrets:
    process.env.BILLOW_OMIT_SECRETS === 'true'
      ? omitted('secrets')
      : {
          aws: () => new SecretsManagerSource(required('BILLOW_SIGNING_SECRET_ARN')),
          local: () => new EnvSecretSource(),
        },
  gateway:
    process.env.BILLOW_OMIT_GATEWAY === 'true'
      ? omitted('gateway')
      : {
          aws: () => {
            if (process.env.BILLOW_GATEWAY !== 'stripe') return new LocalGateway();
            const arn = required('BILLOW_STRIPE_SECRET_ARN');
            return onFirstCall(async () => new (await import('./adapters/gateway/aws.js')).SecretStripeGateway(arn), { name: 'stripe', livemode: true });
          },
          local: () => new LocalGateway(),
        },
  cipher:
    process.env.BILLOW_OMIT_CIPHER === 'true'
      ? omitted('cipher')
      : {
          aws: () => {
            const keyId = required('BILLOW_KMS_KEY_ID');
            return onFirstCall(async () => new (await import('./adapters/crypto/kms.js')).KmsEnvelopeCipher({ keyId }));
          },
          local: () => onFirstCall(async () => new (await import('./adapters/crypto/local.js')).LocalEnvelopeCipher()),
        },
  mailer:
    process.env.BILLOW_OMIT_MAILER === 'true'
      ? omitted('mailer')
      : {
          aws: () => {
            const configurationSetName = process.env.BILLOW_SES_CONFIGURATION_SET || undefined;
            return onFirstCall(async () => new (await import('./adapters/mailer/ses.js')).SesMailer({ configurationSetName }));
          },
          local: () => localMailer(),
        },
  blobs:
    process.env.BILLOW_OMIT_BLOBS === 'true'
      ? omitted('blobs')
      : {
          aws: () => {
            const bucket = required('BILLOW_BLOB_BUCKET');
            return onFirstCall(async () => new (await import('./adapters/blobs/s3.js')).S3BlobStore({ bucket }));
          },
          local: () => onFirstCall(async () => (await import('./adapters/blobs/local-store.js')).localBlobStore()),
        },
  workflow:
    process.env.BILLOW_OMIT_WORKFLOW === 'true'
      ? omitted('workflow')
      : {
          aws: () => new StepFunctionsWorkflow(required('BILLOW_STATE_MACHINE_ARN')),
          local: () => localWorkflow(),
        },
  importFiles:
    process.env.BILLOW_OMIT_IMPORT_FILES === 'true'
      ? omitted('importFiles')
      : {
          aws: () => {
            const bucket = required('BILLOW_IMPORTS_BUCKET');
            return onFirstCall(async () => new (await import('./adapters/import-files/s3.js')).S3ImportFiles({ bucket }));
          },
          local: () => onFirstCall(async () => (await import('./adapters/import-files/local.js')).localImportFiles()),
        },
  importQueue:
    process.env.BILLOW_OMIT_IMPORT_QUEUE === 'true'
      ? omitted('importQueue')
      : {
          aws: () => {
            const url = required('BILLOW_IMPORTS_QUEUE_URL');
            return onFirstCall(async () => new (await import('./adapters/import-queue/sqs.js')).SqsImportQueue(url));
          },
          local: () => onFirstCall(async () => (await import('./adapters/import-queue/local.js')).localImportQueue()),
        },
};

/** Every adapter's name (a function's bundle holds those it names, `lib/function.ts`). */
export const ADAPTERS = Object.keys(CHOICES) as Adapter[];

/** The SES stand-in's endpoint is read per message: the local stack may start (or restart) it after first use. */
function localMailer(): Mailer {
  let current: { endpoint: string; mailer: Mailer } | undefined;
  return {
    send: async (message) => {
      const endpoint = required('BILLOW_LOCAL_SES_ENDPOINT');
      if (current?.endpoint !== endpoint) {
        const [{ SesMailer }, { localSesClient }] = await Promise.all([import('./adapters/mailer/ses.js'), import('./adapters/mailer/local-client.js')]);
        current = { endpoint, mailer: new SesMailer({ client: localSesClient(endpoint) }) };
      }
      return current.mailer.send(message);
    },
  };
}

/**
 * The gateway and the mailer are built behind the fault layer (functions/faults): it passes every call through unless a
 * test or the local stack (`BILLOW_FAULT_RATE`) turns it on; AWS never does.
 */
function behindFaults<K extends Adapter>(key: K, adapter: Services[K]): Services[K] {
  if (key === 'gateway') return gatewayWithFaults(adapter as PaymentGateway) as Services[K];
  if (key === 'mailer') return mailerWithFaults(adapter as Mailer) as Services[K];
  return adapter;
}

/** An object whose members are built on first use and then kept. */
function lazily(runtime: 'aws' | 'local'): Services {
  const built: Partial<Services> = {};
  const result = {} as Services;
  for (const key of ADAPTERS) {
    Object.defineProperty(result, key, { enumerable: true, get: () => (built[key] ??= behindFaults(key, CHOICES[key][runtime]()) as never) });
  }
  return result;
}

/**
 * The container's adapters. Each is built when first used, from its own environment only: in AWS a Lambda gets
 * the variables (and grants) of the adapters its area uses (`lib/api.ts`, AREA_ACCESS), not all of them.
 */
export function getServices(): Services {
  services ??= lazily(process.env.BILLOW_RUNTIME === 'aws' ? 'aws' : 'local');
  return services;
}

/** Tests swap one adapter (e.g. a failing gateway) without touching the environment or building the others. */
export function overrideServices(partial: Partial<Services>): void {
  services = Object.defineProperties({} as Services, { ...Object.getOwnPropertyDescriptors(getServices()), ...Object.getOwnPropertyDescriptors(partial) });
}
