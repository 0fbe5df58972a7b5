import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Readable } from 'node:stream';
import { tracer } from '../../observability/tracer.js';
import { injectFaultsInto } from '../../faults/sdk.js';
import type { ImportFiles } from './port.js';

let sharedClient: S3Client | undefined;

/** Module-scoped client, reused across invocations; region and credentials come from the standard AWS env. */
function defaultClient(): S3Client {
  sharedClient ??= tracer.captureAWSv3Client(injectFaultsInto(new S3Client({}), 's3'));
  return sharedClient;
}

export interface S3ImportFilesOptions {
  /** The imports bucket (`BILLOW_IMPORTS_BUCKET`). */
  bucket: string;
  /** A ready client (the local s3rver, tests); otherwise the module-scoped one. */
  client?: S3Client;
}

async function* empty(): AsyncGenerator<Uint8Array> {}

/** The imports bucket on S3. */
export class S3ImportFiles implements ImportFiles {
  private readonly bucket: string;
  private readonly client: () => S3Client;

  constructor(options: S3ImportFilesOptions) {
    this.bucket = options.bucket;
    const given = options.client;
    this.client = given ? () => given : defaultClient;
  }

  presignPut(key: string, contentType: string, expiresInSeconds: number): Promise<string> {
    // The Content-Type is signed: an upload must send the same header (the API tells the caller so).
    return getSignedUrl(this.client(), new PutObjectCommand({ Bucket: this.bucket, Key: key, ContentType: contentType }), {
      expiresIn: expiresInSeconds,
      signableHeaders: new Set(['content-type']),
    });
  }

  async head(key: string): Promise<{ size: number } | undefined> {
    try {
      const out = await this.client().send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: out.ContentLength ?? 0 };
    } catch (error) {
      if ((error as Error).name === 'NotFound' || (error as Error).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }

  async read(key: string, range?: { start: number; end: number }): Promise<AsyncIterable<Uint8Array>> {
    if (range && range.end <= range.start) return empty();
    const out = await this.client().send(
      new GetObjectCommand({ Bucket: this.bucket, Key: key, ...(range ? { Range: `bytes=${range.start}-${range.end - 1}` } : {}) }),
    );
    return (out.Body as Readable | undefined) ?? empty();
  }

  downloadUrl(key: string, options: { filename: string; contentType: string; expiresInSeconds: number }): Promise<string> {
    const command = new GetObjectCommand({
      Bucket: this.bucket,
      Key: key,
      ResponseContentType: options.contentType,
      ResponseContentDisposition: `attachment; filename="${options.filename.replace(/["\\\r\n]/g, '_')}"`,
    });
    return getSignedUrl(this.client(), command, { expiresIn: options.expiresInSeconds });
  }

  async put(key: string, body: Buffer, contentType: string): Promise<void> {
    await this.client().send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType, ContentLength: body.length }));
  }
}
