import type { IdentityProvider } from './adapters/identity/port.js';
import type { SecretSource } from './adapters/secrets/port.js';
import { LocalIdentityProvider } from './adapters/identity/local.js';
import { CognitoIdentityProvider } from './adapters/identity/cognito.js';
import { SecretsManagerSource } from './adapters/secrets/aws.js';
import { EnvSecretSource } from './adapters/secrets/local.js';

/**
 * The adapters a handler needs, chosen once per container from the environment: `BILLOW_RUNTIME=aws` (set by
 * the CDK stack) picks the AWS implementations; anything else the local stand-ins.
 */
export interface Services {
  identity: IdentityProvider;
  secrets: SecretSource;
}

let services: Services | undefined;

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

export function getServices(): Services {
  if (services) return services;
  if (process.env.BILLOW_RUNTIME === 'aws') {
    services = {
      identity: new CognitoIdentityProvider(required('BILLOW_USER_POOL_ID'), required('BILLOW_USER_POOL_CLIENT_ID'), required('BILLOW_TABLE')),
      secrets: new SecretsManagerSource(required('BILLOW_SIGNING_SECRET_ARN')),
    };
  } else {
    services = {
      identity: new LocalIdentityProvider(required('BILLOW_IDENTITY_TABLE')),
      secrets: new EnvSecretSource(),
    };
  }
  return services;
}

/** Tests swap one adapter (e.g. a failing gateway) without touching the environment. */
export function overrideServices(partial: Partial<Services>): void {
  services = { ...getServices(), ...partial };
}
