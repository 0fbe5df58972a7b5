import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { upgradedIndexEntry } from '../../functions/store/clients.js';
import { TABLE_DESIGN } from '../../functions/store/table-design.js';

/** Creates the application table exactly as the CDK data construct defines it (same design object). */
export function appTableInput(name: string): CreateTableCommandInput {
  const attributes = new Set<string>([TABLE_DESIGN.partitionKey, TABLE_DESIGN.sortKey]);
  for (const g of TABLE_DESIGN.globalIndexes) attributes.add(g.partitionKey).add(g.sortKey);
  for (const l of TABLE_DESIGN.localIndexes) attributes.add(l.sortKey);
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
    KeySchema: [
      { AttributeName: TABLE_DESIGN.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_DESIGN.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: TABLE_DESIGN.globalIndexes.map((g) => ({
      IndexName: g.name,
      KeySchema: [
        { AttributeName: g.partitionKey, KeyType: 'HASH' },
        { AttributeName: g.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    })),
    LocalSecondaryIndexes: TABLE_DESIGN.localIndexes.map((l) => ({
      IndexName: l.name,
      KeySchema: [
        { AttributeName: TABLE_DESIGN.partitionKey, KeyType: 'HASH' },
        { AttributeName: l.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    })),
  };
}

/** The local identity stand-in's own table (Cognito's user store in AWS). */
export function identityTableInput(name: string): CreateTableCommandInput {
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'PK', AttributeType: 'S' },
      { AttributeName: 'SK', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'PK', KeyType: 'HASH' },
      { AttributeName: 'SK', KeyType: 'RANGE' },
    ],
  };
}

async function exists(client: DynamoDBClient, name: string): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: name }));
    return true;
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return false;
    throw error;
  }
}

/**
 * Rewrites the client list and search entries written before the filtered-list indexes (GSI3–GSI5) existed, with
 * their keys for those indexes (store/clients.ts `upgradedIndexEntry`; each entry holds what it needs). Rewriting
 * an entry already current changes nothing, so an interrupted pass is simply run again.
 */
export async function upgradeClientIndexEntries(client: DynamoDBClient, table: string): Promise<number> {
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  let upgraded = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({ TableName: table, FilterExpression: 'entity = :e', ExpressionAttributeValues: { ':e': 'clientIndex' }, ExclusiveStartKey: startKey }),
    );
    const puts = (page.Items ?? []).flatMap((item) => {
      const entry = upgradedIndexEntry(item);
      return entry ? [{ PutRequest: { Item: entry } }] : [];
    });
    for (let i = 0; i < puts.length; i += 25) {
      let pending: unknown[] = puts.slice(i, i + 25);
      while (pending.length) {
        const out = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending as never } }));
        pending = out.UnprocessedItems?.[table] ?? [];
      }
    }
    upgraded += puts.length;
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return upgraded;
}

/**
 * Runs an index creation, waiting while DynamoDB refuses it because another index of the table is still being
 * built (`LimitExceededException`: one online index change at a time; DynamoDB Local may report the previous one
 * ACTIVE a moment before it takes the next).
 */
async function whileIndexBusy<T>(create: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await create();
    } catch (error) {
      if ((error as Error).name !== 'LimitExceededException' || attempt >= 120) throw error;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

async function waitForIndex(client: DynamoDBClient, table: string, index: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
    const status = Table?.GlobalSecondaryIndexes?.find((g) => g.IndexName === index)?.IndexStatus;
    if (status === 'ACTIVE') return;
    if (attempt >= 600) throw new Error(`Index ${index} of table ${table} is still ${status ?? 'missing'} after a minute.`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Adds the global indexes of the design that an existing table lacks (one made by an older version and kept in
 * .billow/dynamodb), one at a time as DynamoDB requires, each waited for until ACTIVE. The entries those indexes
 * hold get their keys first: while an index is still missing, a restart after a crash does the whole pass again.
 */
async function addMissingIndexes(client: DynamoDBClient, table: string): Promise<void> {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
  const present = new Set((Table?.GlobalSecondaryIndexes ?? []).map((g) => g.IndexName));
  const missing = TABLE_DESIGN.globalIndexes.filter((g) => !present.has(g.name));
  if (missing.length === 0) return;
  await upgradeClientIndexEntries(client, table);
  for (const g of missing) {
    await whileIndexBusy(() =>
      client.send(
        new UpdateTableCommand({
          TableName: table,
          AttributeDefinitions: [g.partitionKey, g.sortKey].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
          GlobalSecondaryIndexUpdates: [
            {
              Create: {
                IndexName: g.name,
                KeySchema: [
                  { AttributeName: g.partitionKey, KeyType: 'HASH' },
                  { AttributeName: g.sortKey, KeyType: 'RANGE' },
                ],
                Projection: { ProjectionType: 'ALL' },
              },
            },
          ],
        }),
      ),
    );
    await waitForIndex(client, table, g.name);
  }
}

/** Creates both tables unless they exist (a restarted local stack keeps its data); brings an older app table up to the design. */
export async function ensureTables(client: DynamoDBClient, names: { app: string; identity: string }): Promise<void> {
  if (!(await exists(client, names.app))) {
    await client.send(new CreateTableCommand(appTableInput(names.app)));
    await client.send(
      new UpdateTimeToLiveCommand({ TableName: names.app, TimeToLiveSpecification: { AttributeName: TABLE_DESIGN.timeToLiveAttribute, Enabled: true } }),
    );
  } else {
    await addMissingIndexes(client, names.app);
  }
  if (!(await exists(client, names.identity))) await client.send(new CreateTableCommand(identityTableInput(names.identity)));
}
