import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient, UpdateTimeToLiveCommand, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
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

/** Creates both tables unless they exist (a restarted local stack keeps its data). */
export async function ensureTables(client: DynamoDBClient, names: { app: string; identity: string }): Promise<void> {
  if (!(await exists(client, names.app))) {
    await client.send(new CreateTableCommand(appTableInput(names.app)));
    await client.send(
      new UpdateTimeToLiveCommand({ TableName: names.app, TimeToLiveSpecification: { AttributeName: TABLE_DESIGN.timeToLiveAttribute, Enabled: true } }),
    );
  }
  if (!(await exists(client, names.identity))) await client.send(new CreateTableCommand(identityTableInput(names.identity)));
}
