import { type DecryptCommand, GenerateDataKeyCommand } from '@aws-sdk/client-kms';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KmsEnvelopeCipher, type KmsDataKeyClient } from '../../../functions/adapters/crypto/kms.js';
import { generateLocalMasterKey, LocalEnvelopeCipher } from '../../../functions/adapters/crypto/local.js';
import { DecryptionError } from '../../../functions/adapters/crypto/port.js';

const context = { companyId: 'co_1', clientId: 'cl_1', paymentAccountId: 'pa_1' };
const secret = JSON.stringify({ number: '4242424242424242', expMonth: 12, expYear: 2030 });

/** Flips one bit of the decoded blob at `position` (negative counts from the end). */
function tamper(blob: string, position: number): string {
  const bytes = Buffer.from(blob, 'base64');
  bytes[position < 0 ? bytes.length + position : position] ^= 0x01;
  return bytes.toString('base64');
}

describe('local envelope cipher', () => {
  const cipher = new LocalEnvelopeCipher(generateLocalMasterKey());

  it('round-trips and never shows the plaintext in the blob', async () => {
    const blob = await cipher.encrypt(secret, context);
    expect(blob).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(blob, 'base64').toString('latin1')).not.toContain('4242');
    expect(await cipher.decrypt(blob, context)).toBe(secret);
    expect(await cipher.decrypt(blob, { paymentAccountId: 'pa_1', clientId: 'cl_1', companyId: 'co_1' })).toBe(secret);
  });

  it('uses a fresh data key and IV per message', async () => {
    expect(await cipher.encrypt(secret, context)).not.toBe(await cipher.encrypt(secret, context));
  });

  it('refuses another context, a tampered blob, garbage and another master key', async () => {
    const blob = await cipher.encrypt(secret, context);
    await expect(cipher.decrypt(blob, { ...context, clientId: 'cl_2' })).rejects.toBeInstanceOf(DecryptionError);
    await expect(cipher.decrypt(tamper(blob, -1), context)).rejects.toBeInstanceOf(DecryptionError);
    await expect(cipher.decrypt(tamper(blob, 10), context)).rejects.toBeInstanceOf(DecryptionError);
    await expect(cipher.decrypt('not base64!', context)).rejects.toBeInstanceOf(DecryptionError);
    await expect(cipher.decrypt('AAAA', context)).rejects.toBeInstanceOf(DecryptionError);
    await expect(new LocalEnvelopeCipher(generateLocalMasterKey()).decrypt(blob, context)).rejects.toBeInstanceOf(DecryptionError);
  });

  it('reads its master key from BILLOW_LOCAL_MASTER_KEY and rejects a bad one', async () => {
    const previous = process.env.BILLOW_LOCAL_MASTER_KEY;
    try {
      process.env.BILLOW_LOCAL_MASTER_KEY = generateLocalMasterKey();
      const fromEnv = new LocalEnvelopeCipher();
      expect(await fromEnv.decrypt(await fromEnv.encrypt('x', {}), {})).toBe('x');
      process.env.BILLOW_LOCAL_MASTER_KEY = 'abc';
      expect(() => new LocalEnvelopeCipher()).toThrow(/BILLOW_LOCAL_MASTER_KEY/);
    } finally {
      if (previous === undefined) delete process.env.BILLOW_LOCAL_MASTER_KEY;
      else process.env.BILLOW_LOCAL_MASTER_KEY = previous;
    }
  });
});

/**
 * A fake KMS that wraps data keys with its own AES-GCM key and enforces the encryption context exactly as KMS does
 * (a different context → InvalidCiphertextException). It records each command's input.
 */
function fakeKms() {
  const root = randomBytes(32);
  const calls: { name: string; input: Record<string, unknown> }[] = [];
  const aad = (ctx: Record<string, string> | undefined) => Buffer.from(JSON.stringify(Object.entries(ctx ?? {}).sort()));
  const invalid = () => Object.assign(new Error('InvalidCiphertextException'), { name: 'InvalidCiphertextException' });
  const client = {
    async send(command: GenerateDataKeyCommand | DecryptCommand) {
      if (command instanceof GenerateDataKeyCommand) {
        calls.push({ name: 'GenerateDataKey', input: { ...command.input } });
        const key = randomBytes(32);
        const iv = randomBytes(12);
        const cipher = createCipheriv('aes-256-gcm', root, iv).setAAD(aad(command.input.EncryptionContext));
        const wrapped = Buffer.concat([iv, cipher.update(key), cipher.final(), cipher.getAuthTag()]);
        return { Plaintext: new Uint8Array(key), CiphertextBlob: new Uint8Array(wrapped), KeyId: command.input.KeyId, $metadata: {} };
      }
      calls.push({ name: 'Decrypt', input: { ...command.input } });
      const blob = Buffer.from(command.input.CiphertextBlob!);
      try {
        const decipher = createDecipheriv('aes-256-gcm', root, blob.subarray(0, 12)).setAAD(aad(command.input.EncryptionContext));
        decipher.setAuthTag(blob.subarray(blob.length - 16));
        const key = Buffer.concat([decipher.update(blob.subarray(12, blob.length - 16)), decipher.final()]);
        return { Plaintext: new Uint8Array(key), KeyId: command.input.KeyId, $metadata: {} };
      } catch {
        throw invalid();
      }
    },
  };
  return { client: client as unknown as KmsDataKeyClient, calls };
}

describe('KMS envelope cipher', () => {
  it('asks KMS for an AES-256 data key with the context, and decrypts through KMS', async () => {
    const kms = fakeKms();
    const cipher = new KmsEnvelopeCipher({ keyId: 'alias/billow-payments', client: kms.client });
    const blob = await cipher.encrypt(secret, context);
    expect(kms.calls[0]).toEqual({ name: 'GenerateDataKey', input: { KeyId: 'alias/billow-payments', KeySpec: 'AES_256', EncryptionContext: context } });
    expect(Buffer.from(blob, 'base64').toString('latin1')).not.toContain('4242');
    expect(await cipher.decrypt(blob, context)).toBe(secret);
    expect(kms.calls[1].name).toBe('Decrypt');
    expect(kms.calls[1].input).toMatchObject({ KeyId: 'alias/billow-payments', EncryptionContext: context });
  });

  it('turns a context KMS refuses, or a tampered message, into DecryptionError', async () => {
    const kms = fakeKms();
    const cipher = new KmsEnvelopeCipher({ keyId: 'k', client: kms.client });
    const blob = await cipher.encrypt(secret, context);
    await expect(cipher.decrypt(blob, { ...context, paymentAccountId: 'pa_2' })).rejects.toBeInstanceOf(DecryptionError);
    await expect(cipher.decrypt(tamper(blob, -1), context)).rejects.toBeInstanceOf(DecryptionError);
  });

  it('does not open blobs sealed by the local scheme', async () => {
    const local = await new LocalEnvelopeCipher(generateLocalMasterKey()).encrypt(secret, context);
    await expect(new KmsEnvelopeCipher({ keyId: 'k', client: fakeKms().client }).decrypt(local, context)).rejects.toThrow(/different key scheme/);
  });

  it('lets KMS outages through as errors, not as bad data', async () => {
    const failing = { send: async () => Promise.reject(Object.assign(new Error('throttled'), { name: 'ThrottlingException' })) } as unknown as KmsDataKeyClient;
    const blob = await new KmsEnvelopeCipher({ keyId: 'k', client: fakeKms().client }).encrypt('x', {});
    await expect(new KmsEnvelopeCipher({ keyId: 'k', client: failing }).decrypt(blob, {})).rejects.toThrow('throttled');
  });
});
