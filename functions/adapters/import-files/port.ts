/**
 * The imports bucket (`BILLOW_IMPORTS_BUCKET`): CSV files uploaded through a presigned URL or dropped by ops under
 * `imports/`, and the error reports written under `reports/`. S3 in AWS (`s3.ts`); locally the same S3 code against
 * s3rver (`local.ts`).
 */
export interface ImportFiles {
  /** A URL that lets its holder PUT one object at `key` with this Content-Type, for `expiresInSeconds`. */
  presignPut(key: string, contentType: string, expiresInSeconds: number): Promise<string>;
  /** The object's size, or undefined when there is none. */
  head(key: string): Promise<{ size: number } | undefined>;
  /** The object's bytes, streamed; `range` (start, end exclusive) reads only those. */
  read(key: string, range?: { start: number; end: number }): Promise<AsyncIterable<Uint8Array>>;
  /** A URL that lets its holder GET the object at `key` (an error report) as a download named `filename`. */
  downloadUrl(key: string, options: { filename: string; contentType: string; expiresInSeconds: number }): Promise<string>;
  /** Writes (or replaces) an object (an error report). */
  put(key: string, body: Buffer, contentType: string): Promise<void>;
}
