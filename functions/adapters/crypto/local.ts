import { randomBytes } from 'node:crypto';
import {
  aesGcmOpen,
  aesGcmSeal,
  contextAad,
  decodeEnvelope,
  DecryptionError,
  KeyScheme,
  openEnvelope,
  sealEnvelope,
  type EncryptionContext,
  type EnvelopeCipher,
} from './port.js';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Reads a 256-bit master key written as 64 hex characters; throws naming the variable when it is unusable. */
export function parseLocalMasterKey(hex: string | undefined, source = 'BILLOW_LOCAL_MASTER_KEY'): Buffer {
  if (!hex || !/^[0-9a-fA-F]{64}$/.test(hex)) throw new Error(`${source} must be 64 hex characters (a 256-bit key)`);
  return Buffer.from(hex, 'hex');
}

/** A fresh master key in the form `BILLOW_LOCAL_MASTER_KEY` expects (the local stack writes one on first start). */
export function generateLocalMasterKey(): string {
  return randomBytes(32).toString('hex');
}

/**
 * Envelope encryption with a local master key standing in for KMS: each message gets its own random data key,
 * which is itself sealed with AES-256-GCM under the master key with the context as associated data — the same
 * shape and the same context binding as the KMS implementation.
 */
export class LocalEnvelopeCipher implements EnvelopeCipher {
  private readonly masterKey: Buffer;

  /** `masterKeyHex` defaults to the `BILLOW_LOCAL_MASTER_KEY` environment variable. */
  constructor(masterKeyHex: string | undefined = process.env.BILLOW_LOCAL_MASTER_KEY) {
    this.masterKey = parseLocalMasterKey(masterKeyHex);
  }

  async encrypt(plaintext: string, context: EncryptionContext): Promise<string> {
    const dataKey = randomBytes(32);
    try {
      const wrapped = aesGcmSeal(this.masterKey, dataKey, contextAad(context));
      const wrappedKey = Buffer.concat([wrapped.iv, wrapped.tag, wrapped.ciphertext]);
      return sealEnvelope(KeyScheme.Local, dataKey, wrappedKey, plaintext, context);
    } finally {
      dataKey.fill(0);
    }
  }

  async decrypt(blob: string, context: EncryptionContext): Promise<string> {
    const envelope = decodeEnvelope(blob, KeyScheme.Local);
    if (envelope.wrappedKey.length !== IV_BYTES + TAG_BYTES + 32) throw new DecryptionError('The wrapped data key is malformed');
    const dataKey = aesGcmOpen(
      this.masterKey,
      {
        iv: envelope.wrappedKey.subarray(0, IV_BYTES),
        tag: envelope.wrappedKey.subarray(IV_BYTES, IV_BYTES + TAG_BYTES),
        ciphertext: envelope.wrappedKey.subarray(IV_BYTES + TAG_BYTES),
      },
      contextAad(context),
    );
    try {
      return openEnvelope(envelope, dataKey, context);
    } finally {
      dataKey.fill(0);
    }
  }
}
