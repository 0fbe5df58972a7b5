import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { BlobStore } from './port.js';
import { tracer } from '../../observability/tracer.js';
import { injectFaultsInto } from '../../faults/sdk.js';

/** S3 accepts at most this many keys per DeleteObjects request. */
const DELETE_BATCH = 1000;

/**
 * The part size of `putStream`: S3 wants at least 5 MiB per part but the last, and at most 10,000 parts; 8 MiB parts
 * hold a 78 GiB object while keeping one part in memory.
 */
export const PART_BYTES = 8 * 1024 * 1024;

let sharedClient: S3Client | undefined;

/** Module-scoped client, reused across invocations; region and credentials come from the standard AWS env. */
function defaultClient(): S3Client {
  sharedClient ??= tracer.captureAWSv3Client(injectFaultsInto(new S3Client({}), 's3'));
  return sharedClient;
}

export interface S3BlobStoreOptions {
  /** The bucket (`BILLOW_BLOB_BUCKET`). */
  bucket: string;
  /** A ready client (the local s3rver, tests); otherwise the module-scoped one, built on first use. */
  client?: S3Client;
}

/** The blob store on one S3 bucket. */
export class S3BlobStore implements BlobStore {
  private readonly bucket: string;
  private readonly client: () => S3Client;

  constructor(options: S3BlobStoreOptions) {
    this.bucket = options.bucket;
    const given = options.client;
    this.client = given ? () => given : defaultClient;
  }

  async put(key: string, body: Buffer, contentType: string): Promise<void> {
    await this.client().send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType, ContentLength: body.length }));
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      const out = await this.client().send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!out.Body) return Buffer.alloc(0);
      return Buffer.from(await out.Body.transformToByteArray());
    } catch (error) {
      if ((error as Error).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }

  async delete(keys: string[]): Promise<void> {
    const unique = [...new Set(keys)];
    for (let i = 0; i < unique.length; i += DELETE_BATCH) {
      const out = await this.client().send(
        new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: unique.slice(i, i + DELETE_BATCH).map((Key) => ({ Key })), Quiet: true } }),
      );
      // DeleteObjects answers 200 even when some keys failed; those are listed in `Errors`.
      const failed = out.Errors ?? [];
      if (failed.length) {
        const first = failed[0];
        throw new Error(`S3 did not delete ${failed.length} object(s) from ${this.bucket}, e.g. ${first.Key}: ${first.Code} ${first.Message ?? ''}`.trim());
      }
    }
  }

  async putStream(key: string, body: AsyncIterable<Buffer>, contentType: string): Promise<void> {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let uploadId: string | undefined;
    const parts: { ETag: string | undefined; PartNumber: number }[] = [];
    const sendPart = async () => {
      uploadId ??= (await this.client().send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ContentType: contentType }))).UploadId;
      const PartNumber = parts.length + 1;
      const out = await this.client().send(
        new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber, Body: Buffer.concat(pending), ContentLength: pendingBytes }),
      );
      parts.push({ ETag: out.ETag, PartNumber });
      pending = [];
      pendingBytes = 0;
    };
    try {
      for await (const piece of body) {
        pending.push(piece);
        pendingBytes += piece.length;
        if (pendingBytes >= PART_BYTES) await sendPart();
      }
      // Small enough for one part: a plain put, no upload to complete.
      if (uploadId === undefined) return await this.put(key, Buffer.concat(pending), contentType);
      if (pendingBytes > 0) await sendPart();
      await this.client().send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
    } catch (error) {
      // The parts would be billed until the bucket's lifecycle aborts the upload; an abort that fails too leaves that to it.
      if (uploadId !== undefined)
        await this.client()
          .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }))
          .catch(() => undefined);
      throw error;
    }
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
}
