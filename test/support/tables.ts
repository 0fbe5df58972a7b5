import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ensureTables } from '../../bin/local/tables.js';
import { generateLocalSigningKey } from '../../functions/adapters/identity/local.js';

/** Fresh tables and local secrets for one test file; returns their names. */
export async function useFreshTables(): Promise<{ app: string; identity: string }> {
  const suffix = randomBytes(4).toString('hex');
  const names = { app: `billow-test-${suffix}`, identity: `billow-test-identity-${suffix}` };
  await ensureTables(new DynamoDBClient({}), names);
  process.env.BILLOW_TABLE = names.app;
  process.env.BILLOW_IDENTITY_TABLE = names.identity;
  process.env.BILLOW_SIGNING_SECRET ??= randomBytes(32).toString('hex');
  process.env.BILLOW_LOCAL_MASTER_KEY ??= randomBytes(32).toString('hex');
  process.env.BILLOW_LOCAL_IDENTITY_KEY ??= JSON.stringify(await generateLocalSigningKey());
  return names;
}
