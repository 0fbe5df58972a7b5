import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Envelope encryption of small secrets (payment details kept by Billow): each message is sealed with its own
 * AES-256-GCM data key, and the data key is wrapped by a master key — KMS in AWS (`kms.ts`), a local key from the
 * environment otherwise (`local.ts`). The context (e.g. `{ companyId, clientId, paymentAccountId }`) is bound to the
 * blob: decrypting with a different context fails, so a blob copied onto another record is useless.
 */
export interface EnvelopeCipher {
  /** An opaque base64 blob holding the wrapped data key, the IV, the GCM tag and the ciphertext. */
  encrypt(plaintext: string, context: EncryptionContext): Promise<string>;
  /** The plaintext, or `DecryptionError` when the blob is malformed, tampered with or the context differs. */
  decrypt(blob: string, context: EncryptionContext): Promise<string>;
}

export type EncryptionContext = Record<string, string>;

/** A blob that cannot be opened: malformed, altered, sealed by the other key scheme, or a different context. */
export class DecryptionError extends Error {
  constructor(message = 'The encrypted value cannot be decrypted') {
    super(message);
    this.name = 'DecryptionError';
  }
}

/** Which master key wrapped the data key; stored in the blob so a local blob is never handed to KMS or vice versa. */
export const KeyScheme = { Kms: 1, Local: 2 } as const;
export type KeyScheme = (typeof KeyScheme)[keyof typeof KeyScheme];

const FORMAT_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** version, scheme, wrapped-key length (uint16). */
const HEADER_BYTES = 4;

export interface Envelope {
  scheme: KeyScheme;
  wrappedKey: Buffer;
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

/** The context as additional authenticated data: canonical (sorted keys) so key order never matters. */
export function contextAad(context: EncryptionContext): Buffer {
  const entries = Object.keys(context)
    .sort()
    .map((key) => [key, context[key]]);
  return Buffer.from(JSON.stringify(entries), 'utf8');
}

/** AES-256-GCM with a fresh random IV; `aad` is authenticated but not encrypted. */
export function aesGcmSeal(key: Buffer, plaintext: Buffer, aad: Buffer): { iv: Buffer; tag: Buffer; ciphertext: Buffer } {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, tag: cipher.getAuthTag(), ciphertext };
}

/** Opens `aesGcmSeal`'s output; throws `DecryptionError` when the tag does not verify. */
export function aesGcmOpen(key: Buffer, sealed: { iv: Buffer; tag: Buffer; ciphertext: Buffer }, aad: Buffer): Buffer {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv);
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.tag);
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
  } catch {
    throw new DecryptionError();
  }
}

/** Seals `plaintext` under a data key, bound to `context`, and packs it with the wrapped key into a blob. */
export function sealEnvelope(scheme: KeyScheme, dataKey: Buffer, wrappedKey: Buffer, plaintext: string, context: EncryptionContext): string {
  const sealed = aesGcmSeal(dataKey, Buffer.from(plaintext, 'utf8'), contextAad(context));
  return encodeEnvelope({ scheme, wrappedKey, ...sealed });
}

/** Opens the message part of an envelope with its unwrapped data key. */
export function openEnvelope(envelope: Envelope, dataKey: Buffer, context: EncryptionContext): string {
  return aesGcmOpen(dataKey, envelope, contextAad(context)).toString('utf8');
}

/** Packs an envelope as base64: version | scheme | wrapped-key length | wrapped key | IV | tag | ciphertext. */
export function encodeEnvelope(envelope: Envelope): string {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt8(FORMAT_VERSION, 0);
  header.writeUInt8(envelope.scheme, 1);
  header.writeUInt16BE(envelope.wrappedKey.length, 2);
  return Buffer.concat([header, envelope.wrappedKey, envelope.iv, envelope.tag, envelope.ciphertext]).toString('base64');
}

/** Unpacks `encodeEnvelope`'s blob, checking it was made by `expectedScheme`; throws `DecryptionError` otherwise. */
export function decodeEnvelope(blob: string, expectedScheme: KeyScheme): Envelope {
  if (typeof blob !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) throw new DecryptionError('The encrypted value is not base64');
  const bytes = Buffer.from(blob, 'base64');
  if (bytes.length < HEADER_BYTES + IV_BYTES + TAG_BYTES) throw new DecryptionError('The encrypted value is truncated');
  if (bytes.readUInt8(0) !== FORMAT_VERSION) throw new DecryptionError('Unknown envelope version');
  const scheme = bytes.readUInt8(1) as KeyScheme;
  if (scheme !== expectedScheme) throw new DecryptionError('The value was encrypted under a different key scheme');
  const keyLength = bytes.readUInt16BE(2);
  const keyEnd = HEADER_BYTES + keyLength;
  if (bytes.length < keyEnd + IV_BYTES + TAG_BYTES) throw new DecryptionError('The encrypted value is truncated');
  return {
    scheme,
    wrappedKey: bytes.subarray(HEADER_BYTES, keyEnd),
    iv: bytes.subarray(keyEnd, keyEnd + IV_BYTES),
    tag: bytes.subarray(keyEnd + IV_BYTES, keyEnd + IV_BYTES + TAG_BYTES),
    ciphertext: bytes.subarray(keyEnd + IV_BYTES + TAG_BYTES),
  };
}
