import '../../bin/local/preamble.js';
import type { TestProject } from 'vitest/node';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../bin/local/dynamodb-local.js';

/**
 * One in-memory DynamoDB Local for the whole run; each test file makes its own tables in it. The integration and
 * e2e projects both name this setup, so the first to start it shares it with the other (held on globalThis,
 * since each project may load this module afresh) and the last to finish stops it.
 */
interface Shared {
  dynamo: Promise<DynamoDbLocal>;
  users: number;
}
const holder = globalThis as { billowTestDynamo?: Shared };

export async function setup(project: TestProject): Promise<void> {
  holder.billowTestDynamo ??= { dynamo: startDynamoDbLocal(), users: 0 };
  holder.billowTestDynamo.users++;
  const dynamo = await holder.billowTestDynamo.dynamo;
  process.env.BILLOW_TEST_DYNAMO_ENDPOINT = dynamo.endpoint;
  project.provide('dynamoEndpoint', dynamo.endpoint);
}

export async function teardown(): Promise<void> {
  const shared = holder.billowTestDynamo;
  if (!shared || --shared.users > 0) return;
  holder.billowTestDynamo = undefined;
  await (await shared.dynamo).stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}
