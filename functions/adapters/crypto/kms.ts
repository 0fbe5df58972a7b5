import { DecryptCommand, GenerateDataKeyCommand, KMSClient, type DecryptCommandOutput, type GenerateDataKeyCommandOutput } from '@aws-sdk/client-kms';
import { decodeEnvelope, DecryptionError, KeyScheme, openEnvelope, sealEnvelope, type EncryptionContext, type EnvelopeCipher } from './port.js';
import { tracer } from '../../observability/tracer.js';

/** The two KMS calls envelope encryption needs; a `KMSClient` satisfies it, and tests pass a fake. */
export interface KmsDataKeyClient {
  send(command: GenerateDataKeyCommand): Promise<GenerateDataKeyCommandOutput>;
  send(command: DecryptCommand): Promise<DecryptCommandOutput>;
}

export interface KmsEnvelopeCipherOptions {
  /** Key id, ARN or alias of the symmetric KMS key that wraps data keys. */
  keyId: string;
  /** Defaults to a `KMSClient` for the Lambda's region. */
  client?: KmsDataKeyClient;
}

let defaultClient: KMSClient | undefined;

/**
 * Envelope encryption with KMS: `GenerateDataKey` (AES_256) returns a data key in clear and wrapped; the clear key
 * seals the message with AES-256-GCM and is wiped, the wrapped key travels in the blob. Decryption sends the wrapped
 * key to KMS `Decrypt`. The context is passed to KMS as its EncryptionContext (so it appears in CloudTrail and is
 * enforced by KMS) and is also the GCM associated data.
 */
export class KmsEnvelopeCipher implements EnvelopeCipher {
  private readonly client: KmsDataKeyClient;

  constructor(private readonly options: KmsEnvelopeCipherOptions) {
    if (!options.keyId) throw new Error('A KMS key id is required');
    if (options.client) {
      this.client = options.client;
    } else {
      defaultClient ??= tracer.captureAWSv3Client(new KMSClient({}));
      this.client = defaultClient;
    }
  }

  async encrypt(plaintext: string, context: EncryptionContext): Promise<string> {
    const output = await this.client.send(new GenerateDataKeyCommand({ KeyId: this.options.keyId, KeySpec: 'AES_256', EncryptionContext: context }));
    if (!output.Plaintext || !output.CiphertextBlob) throw new Error('KMS GenerateDataKey returned no key');
    const dataKey = Buffer.from(output.Plaintext);
    try {
      return sealEnvelope(KeyScheme.Kms, dataKey, Buffer.from(output.CiphertextBlob), plaintext, context);
    } finally {
      dataKey.fill(0);
      output.Plaintext.fill(0);
    }
  }

  async decrypt(blob: string, context: EncryptionContext): Promise<string> {
    const envelope = decodeEnvelope(blob, KeyScheme.Kms);
    let output: DecryptCommandOutput;
    try {
      output = await this.client.send(new DecryptCommand({ KeyId: this.options.keyId, CiphertextBlob: envelope.wrappedKey, EncryptionContext: context }));
    } catch (error) {
      // KMS refuses a wrong context or an altered key as InvalidCiphertextException; anything else is an outage.
      if ((error as { name?: string }).name === 'InvalidCiphertextException') throw new DecryptionError();
      throw error;
    }
    if (!output.Plaintext) throw new DecryptionError('KMS Decrypt returned no key');
    const dataKey = Buffer.from(output.Plaintext);
    try {
      return openEnvelope(envelope, dataKey, context);
    } finally {
      dataKey.fill(0);
      output.Plaintext.fill(0);
    }
  }
}
