import { randomBytes } from 'node:crypto';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../../bin/local/dynamodb-local.js';
import { appTableInput, ensureTables } from '../../../bin/local/tables.js';
import { generateLocalSigningKey } from '../../../functions/adapters/identity/local.js';
import { searchTerms, type Client } from '../../../functions/domain/client.js';
import { newId } from '../../../functions/domain/ids.js';
import { fitKeyValue, insertClient, listClients, searchClients } from '../../../functions/store/clients.js';
import { db } from '../../../functions/store/dynamo.js';
import { companyPk, groupSk } from '../../../functions/store/keys.js';
import { TABLE_DESIGN } from '../../../functions/store/table-design.js';
import { blankClient } from '../../support/blank-client.js';

/**
 * `npm start` on a data directory kept from before the filtered-list indexes (GSI3–GSI5): ensureTables adds them and
 * rewrites the client list and search entries the older code wrote, so filtered lists and searches find every client.
 */
const NEW_INDEXES = ['GSI3', 'GSI4', 'GSI5'];
const names = { app: `billow-old-${randomBytes(4).toString('hex')}`, identity: `billow-old-identity-${randomBytes(4).toString('hex')}` };
const companyId = newId('co');
const groups = { main: newId('grp'), other: newId('grp') };
const clients: Client[] = [];
const dynamo = () => new DynamoDBClient({});

function draft(i: number, status: Client['status'], groupId: string): Omit<Client, 'number'> {
  return blankClient({
    status,
    groupId,
    firstName: 'Anna',
    lastName: `Andersen${i}`,
    company: i % 2 ? 'Annex Ltd' : null,
    country: 'GB',
    email: `anna${i}@example.test`,
    currency: 'GBP',
    createdAt: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString(),
  });
}

/** Every client index entry as the code before GSI3–GSI5 wrote it: no index keys, and a search entry with all of the client's pairs. */
async function downgradeEntries(): Promise<number> {
  const out = await db().send(new ScanCommand({ TableName: names.app, FilterExpression: 'entity = :e', ExpressionAttributeValues: { ':e': 'clientIndex' } }));
  for (const item of out.Items ?? []) {
    const { GSI3PK, GSI3SK, GSI4PK, GSI4SK, GSI5PK, GSI5SK, firstMatchFrom, ...old } = item;
    const client = clients.find((c) => c.id === item.clientId)!;
    const pairs = searchTerms(client).map(([term, field]) => [fitKeyValue(term), field]);
    await db().send(new PutCommand({ TableName: names.app, Item: item.term === undefined ? old : { ...old, pairs } }));
  }
  return (out.Items ?? []).length;
}

let own: DynamoDbLocal | undefined;

beforeAll(async () => {
  // A DynamoDB Local of its own: building an index on the suite's shared one, busy with every other file's tables,
  // can take minutes.
  own = await startDynamoDbLocal();
  process.env.AWS_ENDPOINT_URL_DYNAMODB = own.endpoint;
  const input = appTableInput(names.app);
  const oldIndexes = TABLE_DESIGN.globalIndexes.filter((g) => !NEW_INDEXES.includes(g.name));
  const oldAttributes = new Set(['PK', 'SK', 'LSI1SK', ...oldIndexes.flatMap((g) => [g.partitionKey, g.sortKey])]);
  await dynamo().send(
    new CreateTableCommand({
      ...input,
      AttributeDefinitions: input.AttributeDefinitions!.filter((a) => oldAttributes.has(a.AttributeName!)),
      GlobalSecondaryIndexes: input.GlobalSecondaryIndexes!.filter((g) => !NEW_INDEXES.includes(g.IndexName!)),
    }),
  );
  process.env.BILLOW_TABLE = names.app;
  process.env.BILLOW_IDENTITY_TABLE = names.identity;
  process.env.BILLOW_SIGNING_SECRET ??= randomBytes(32).toString('hex');
  process.env.BILLOW_LOCAL_MASTER_KEY ??= randomBytes(32).toString('hex');
  process.env.BILLOW_LOCAL_IDENTITY_KEY ??= JSON.stringify(await generateLocalSigningKey());
  for (const groupId of Object.values(groups)) {
    await db().send(new PutCommand({ TableName: names.app, Item: { PK: companyPk(companyId), SK: groupSk(groupId), entity: 'group', id: groupId } }));
  }
  const statuses: Client['status'][] = ['active', 'inactive', 'active', 'fraud', 'inactive', 'active'];
  for (const [i, status] of statuses.entries()) clients.push(await insertClient(companyId, draft(i, status, i % 3 === 0 ? groups.other : groups.main)));
  expect(await downgradeEntries()).toBeGreaterThan(clients.length * 8);
}, 90_000);

afterAll(async () => {
  await own?.stop();
});

describe('ensureTables on a table made before the filtered-list indexes', { timeout: 120_000 }, () => {
  it('adds GSI3–GSI5 (ACTIVE) and rewrites the older entries, so filtered lists and searches find every client', async () => {
    await ensureTables(dynamo(), names);
    const { Table } = await dynamo().send(new DescribeTableCommand({ TableName: names.app }));
    const indexes = Table!.GlobalSecondaryIndexes!.map((g) => [g.IndexName, g.IndexStatus]);
    expect(indexes.sort()).toEqual(TABLE_DESIGN.globalIndexes.map((g) => [g.name, 'ACTIVE']).sort());

    const ids = (list: Client[]) => list.map((c) => c.id);
    const expected = (keep: (c: Client) => boolean) => ids(clients.filter(keep));
    const inactive = await listClients(companyId, { sort: 'number', descending: false, status: 'inactive', limit: 10 });
    expect(ids(inactive.items)).toEqual(expected((c) => c.status === 'inactive'));
    const other = await listClients(companyId, { sort: 'createdAt', descending: true, groupId: groups.other, limit: 10 });
    expect(ids(other.items)).toEqual(expected((c) => c.groupId === groups.other).reverse());
    const both = await listClients(companyId, { sort: 'lastName', descending: false, groupId: groups.main, status: 'active', limit: 10 });
    expect(ids(both.items)).toEqual(expected((c) => c.groupId === groups.main && c.status === 'active'));
    // "ann" starts first name, email and (for some) company: each client once, from the entries' upgraded first-match data.
    const found = await searchClients(companyId, 'Ann', { status: 'inactive', limit: 10 });
    expect(ids(found.items).sort()).toEqual(expected((c) => c.status === 'inactive').sort());
    const all = await searchClients(companyId, '', { limit: 10 });
    expect(ids(all.items).sort()).toEqual(ids(clients).sort());
  });

  it('leaves an up-to-date table alone: it only describes the tables (no scan, no write)', async () => {
    const client = dynamo();
    // Brought up to date first, whichever test runs first (a no-op after the other one).
    await ensureTables(client, names);
    const send = vi.spyOn(client, 'send');
    await ensureTables(client, names);
    expect(send.mock.calls.map(([command]) => command.constructor.name)).toEqual(['DescribeTableCommand', 'DescribeTableCommand', 'DescribeTableCommand']);
    const out = await db().send(new ScanCommand({ TableName: names.app, FilterExpression: 'attribute_exists(pairs)' }));
    expect(out.Items).toEqual([]);
  });
});
