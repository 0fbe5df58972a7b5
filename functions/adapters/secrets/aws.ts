import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretSource } from './port.js';

/** Reads the secret once per container and caches it for five minutes (Powertools Parameters). */
export class SecretsManagerSource implements SecretSource {
  constructor(private readonly secretId: string) {}
  async signingSecret(): Promise<string> {
    const value = await getSecret(this.secretId, { maxAge: 300 });
    if (typeof value !== 'string' || value.length < 32) throw new Error('The signing secret is missing or too short');
    return value;
  }
}
