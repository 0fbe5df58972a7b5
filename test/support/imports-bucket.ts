import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startLocalBlobs, type LocalBlobs } from '../../functions/adapters/blobs/local.js';
import { useLocalImportQueue } from '../../functions/adapters/import-queue/local.js';
import { useFreshTables } from './tables.js';

/**
 * For a test file of the import worker: fresh tables, the imports bucket on s3rver, and the local imports queue
 * replaced by one that only collects what is sent into `sent` (the test delivers the messages itself).
 */
export function useImportsBucket<T>(bucket: string, sent: T[]): void {
  let blobs: LocalBlobs | undefined;
  beforeAll(async () => {
    await useFreshTables();
    blobs = await startLocalBlobs({ directory: mkdtempSync(join(tmpdir(), 'billow-imports-')), bucket });
    process.env.BILLOW_IMPORTS_BUCKET = bucket;
    useLocalImportQueue({
      send: async (body) => {
        sent.push(body as T);
      },
    });
  });
  afterAll(async () => {
    useLocalImportQueue(undefined);
    await blobs?.stop();
  });
}
