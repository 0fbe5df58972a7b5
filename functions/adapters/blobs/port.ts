/**
 * Objects too large for a table item (mail bodies and attachments over the inline limit): S3 in AWS (`s3.ts`);
 * locally the same S3 code against an in-process s3rver (`local.ts`). Keys are chosen by the caller and stored on
 * the item that owns the object (see `blobs` in `functions/store/client-partition.ts`).
 */
export interface BlobStore {
  /** Writes (or replaces) the object at `key`. */
  put(key: string, body: Buffer, contentType: string): Promise<void>;
  /**
   * The object's bytes, or undefined when there is no object at `key`. In AWS the function roles have no
   * `s3:ListBucket`, so S3 answers a missing key with AccessDenied, which is thrown: a key Billow stored and cannot
   * read back is an error, not an absence.
   */
  get(key: string): Promise<Buffer | undefined>;
  /** Removes the objects; keys that do not exist are not an error. */
  delete(keys: string[]): Promise<void>;
  /**
   * Writes the object at `key` from pieces as they come, holding about one part in memory (S3 multipart upload; a
   * body smaller than one part is a single put). A failure leaves no object.
   */
  putStream(key: string, body: AsyncIterable<Buffer>, contentType: string): Promise<void>;
  /**
   * A URL that GETs the object without credentials until `expiresInSeconds` have passed (S3 presigned), answered
   * with `contentType` and as an attachment named `filename`.
   */
  downloadUrl(key: string, options: { filename: string; contentType: string; expiresInSeconds: number }): Promise<string>;
}
