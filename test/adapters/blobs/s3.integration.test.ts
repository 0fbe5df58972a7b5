import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localS3Client, startLocalBlobs, type LocalBlobs } from '../../../functions/adapters/blobs/local.js';
import { PART_BYTES, S3BlobStore } from '../../../functions/adapters/blobs/s3.js';

/**
 * The blob store's streamed write and its download link, against the local S3 stand-in (s3rver): a body of several
 * parts is a multipart upload, a small one a single put, a failing body leaves no object.
 */
let blobs: LocalBlobs;
let store: S3BlobStore;

beforeAll(async () => {
  blobs = await startLocalBlobs({ directory: mkdtempSync(join(tmpdir(), 'billow-blobs-')), bucket: 'blob-stream-test' });
  store = new S3BlobStore({ bucket: blobs.bucket, client: localS3Client(blobs.endpoint) });
});
afterAll(async () => {
  await blobs?.stop();
});

async function* pieces(total: number, size: number, failAfter?: number): AsyncGenerator<Buffer> {
  for (let sent = 0, i = 0; sent < total; sent += size, i++) {
    if (failAfter !== undefined && sent >= failAfter) throw new Error('the source failed');
    yield Buffer.alloc(Math.min(size, total - sent), i % 251);
  }
}

async function collect(source: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const piece of source) out.push(piece);
  return Buffer.concat(out);
}

describe('S3BlobStore.putStream', () => {
  it('writes a body of several parts (the last one short) byte for byte', async () => {
    const total = 2 * PART_BYTES + 12_345;
    await store.putStream('exports/multi.csv', pieces(total, 64 * 1024 + 7), 'text/csv; charset=utf-8');
    const stored = await store.get('exports/multi.csv');
    expect(stored?.length).toBe(total);
    expect(stored?.equals(await collect(pieces(total, 64 * 1024 + 7)))).toBe(true);
  });

  it('writes a body smaller than a part with one put, an empty body included', async () => {
    await store.putStream('exports/small.csv', pieces(1000, 300), 'text/csv');
    expect((await store.get('exports/small.csv'))?.equals(await collect(pieces(1000, 300)))).toBe(true);
    await store.putStream('exports/empty.csv', pieces(0, 1), 'text/csv');
    expect((await store.get('exports/empty.csv'))?.length).toBe(0);
  });

  it('leaves no object when the body fails after a part was sent', async () => {
    await expect(store.putStream('exports/failed.csv', pieces(3 * PART_BYTES, 1024 * 1024, PART_BYTES + 1), 'text/csv')).rejects.toThrow('the source failed');
    expect(await store.get('exports/failed.csv')).toBeUndefined();
  });
});

describe('S3BlobStore.downloadUrl', () => {
  it('is a link that answers the object as an attachment with the given type, without credentials', async () => {
    await store.put('exports/link.csv', Buffer.from('a,b\r\n'), 'application/octet-stream');
    const url = await store.downloadUrl('exports/link.csv', { filename: 'clients "x".csv', contentType: 'text/csv; charset=utf-8', expiresInSeconds: 60 });
    expect(url).toMatch(/X-Amz-Expires=60/);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="clients _x_.csv"');
    expect(await res.text()).toBe('a,b\r\n');
  });
});
