import type { SecretSource } from './port.js';

export class EnvSecretSource implements SecretSource {
  async signingSecret(): Promise<string> {
    const value = process.env.BILLOW_SIGNING_SECRET;
    if (!value || value.length < 32) throw new Error('BILLOW_SIGNING_SECRET is not set (32+ characters)');
    return value;
  }
}
