import { localS3Client } from '../blobs/local.js';
import type { ImportFiles } from './port.js';
import { S3ImportFiles } from './s3.js';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (is the local imports bucket running?)`);
  return value;
}

/**
 * The imports bucket of the local stack: the S3 code of `s3.ts` against the s3rver at `BILLOW_LOCAL_S3_ENDPOINT`,
 * bucket `BILLOW_IMPORTS_BUCKET`, both read per call (the local stack may start s3rver after first use).
 */
export function localImportFiles(): ImportFiles {
  let current: { endpoint: string; bucket: string; files: S3ImportFiles } | undefined;
  const files = () => {
    const endpoint = required('BILLOW_LOCAL_S3_ENDPOINT');
    const bucket = required('BILLOW_IMPORTS_BUCKET');
    if (current?.endpoint !== endpoint || current.bucket !== bucket)
      current = { endpoint, bucket, files: new S3ImportFiles({ bucket, client: localS3Client(endpoint) }) };
    return current.files;
  };
  return {
    presignPut: (key, contentType, expires) => files().presignPut(key, contentType, expires),
    head: (key) => files().head(key),
    read: (key, range) => files().read(key, range),
    downloadUrl: (key, options) => files().downloadUrl(key, options),
    put: (key, body, contentType) => files().put(key, body, contentType),
  };
}
