import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { tracer } from '../../observability/tracer.js';
import type { SecretSource } from './port.js';

let sharedProvider: SecretsProvider | undefined;

/**
 * Module-scoped Secrets Manager reader of every secret Billow reads (Powertools Parameters, which caches per
 * provider), on a traced client.
 */
export function secretsProvider(): SecretsProvider {
  sharedProvider ??= new SecretsProvider({ awsSdkV3Client: tracer.captureAWSv3Client(new SecretsManagerClient({})) });
  return sharedProvider;
}

/** Reads the secret once per container and caches it for five minutes (Powertools Parameters). */
export class SecretsManagerSource implements SecretSource {
  constructor(private readonly secretId: string) {}
  async signingSecret(): Promise<string> {
    const value = await secretsProvider().get(this.secretId, { maxAge: 300 });
    if (typeof value !== 'string' || value.length < 32) throw new Error('The signing secret is missing or too short');
    return value;
  }
}
