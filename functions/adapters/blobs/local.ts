import type { EventEmitter } from 'node:events';
import { S3Client } from '@aws-sdk/client-s3';
import type { BlobStore } from './port.js';
import { S3BlobStore } from './s3.js';
import { injectFaultsInto } from '../../faults/sdk.js';

/** The local blob store: its S3 endpoint, its bucket, and how to stop it. */
export interface LocalBlobs {
  /** `http://127.0.0.1:<port>` (path-style: objects are at `<endpoint>/<bucket>/<key>`). */
  endpoint: string;
  bucket: string;
  /** The s3rver itself: it emits `event` with an S3 notification for each object created or deleted (any bucket). */
  events: EventEmitter;
  stop(): Promise<void>;
}

/** The bucket the local stack keeps blobs in. */
export const LOCAL_BLOB_BUCKET = 'billow-blobs';

/**
 * An S3 client for s3rver. s3rver accepts only the `S3RVER` credentials and path-style addressing, and it stores
 * the aws-chunked framing of streamed uploads as the object unless checksums are only computed when an operation
 * requires them (see `/work/shared/notes/local-stack.md`, section 4), hence `WHEN_REQUIRED` both ways.
 */
export function localS3Client(endpoint: string): S3Client {
  const client = new S3Client({
    endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  // Inert unless the fault layer is on (functions/faults).
  return injectFaultsInto(client, 's3');
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (is the local blob store running? see startLocalBlobs)`);
  return value;
}

/**
 * The blob store of the local stack: the S3 code of `s3.ts` against the s3rver at `BILLOW_LOCAL_S3_ENDPOINT`,
 * bucket `BILLOW_BLOB_BUCKET`. Both are read per call: the local stack may start (or restart) s3rver after first use.
 */
export function localBlobStore(): BlobStore {
  let current: { endpoint: string; bucket: string; store: S3BlobStore } | undefined;
  const store = () => {
    const endpoint = required('BILLOW_LOCAL_S3_ENDPOINT');
    const bucket = required('BILLOW_BLOB_BUCKET');
    if (current?.endpoint !== endpoint || current.bucket !== bucket)
      current = { endpoint, bucket, store: new S3BlobStore({ bucket, client: localS3Client(endpoint) }) };
    return current.store;
  };
  return {
    put: (key, body, contentType) => store().put(key, body, contentType),
    get: (key) => store().get(key),
    delete: (keys) => (keys.length ? store().delete(keys) : Promise.resolve()),
    putStream: (key, body, contentType) => store().putStream(key, body, contentType),
    downloadUrl: (key, options) => store().downloadUrl(key, options),
  };
}

/**
 * Starts s3rver inside this process with its files under `directory` (kept across restarts) on 127.0.0.1:`port`
 * (default: a free one), creates the bucket, and points the local blob store at it (`BILLOW_LOCAL_S3_ENDPOINT`,
 * `BILLOW_BLOB_BUCKET`). s3rver is loaded with a dynamic import so it never reaches a Lambda bundle.
 *
 * @example const blobs = await startLocalBlobs({ directory: join(stateDir, 's3') });
 */
export async function startLocalBlobs(options: {
  directory: string;
  port?: number;
  bucket?: string;
  /** Other buckets on the same server, each with its configuration documents (a CORS configuration's XML). */
  otherBuckets?: Array<{ name: string; configs?: string[] }>;
}): Promise<LocalBlobs> {
  const bucket = options.bucket ?? LOCAL_BLOB_BUCKET;
  const { default: S3rver } = await import('s3rver');
  const server = new S3rver({
    port: options.port ?? 0,
    address: '127.0.0.1',
    silent: true,
    directory: options.directory,
    // Other buckets on the same server (the imports bucket): one endpoint for every local S3 client.
    configureBuckets: [{ name: bucket }, ...(options.otherBuckets ?? [])],
  });
  // With a fixed port, check it is free first (`portIsFree` in `bin/local`): s3rver does not report a failed listen.
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  process.env.BILLOW_LOCAL_S3_ENDPOINT = endpoint;
  process.env.BILLOW_BLOB_BUCKET = bucket;
  return {
    endpoint,
    bucket,
    events: server,
    stop: async () => {
      if (process.env.BILLOW_LOCAL_S3_ENDPOINT === endpoint) {
        delete process.env.BILLOW_LOCAL_S3_ENDPOINT;
        if (process.env.BILLOW_BLOB_BUCKET === bucket) delete process.env.BILLOW_BLOB_BUCKET;
      }
      await server.close();
    },
  };
}
