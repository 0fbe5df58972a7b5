import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError } from '../../functions/domain/errors.js';
import { claimMerge, releaseMerge } from '../../functions/store/client-partition.js';
import { ClientBusyError, ClientGoneError, MERGE_STALE_MS, transactOnClient, withRetriesWhileClientBusy } from '../../functions/store/client-guard.js';
import { statusOf } from '../../functions/http/problem.js';
import { db, tableName } from '../../functions/store/dynamo.js';
import { clientPk, clientSk } from '../../functions/store/keys.js';
import { startTestApi, type TestApi } from '../support/stack.js';

/** The check every write into a client's partition commits with (functions/store/client-guard.ts). */
let api: TestApi;
let companyId: string;

beforeAll(async () => {
  api = await startTestApi();
  companyId = api.facts.companyId;
});
afterAll(async () => {
  await api?.stack.stop();
});

async function newClient(): Promise<string> {
  const res = await api.staff('POST', '/v1/clients', { company: `Guarded ${Math.random().toString(36).slice(2, 8)}` });
  if (res.status !== 201) throw new Error(`expected 201, got ${res.status}: ${res.text}`);
  return res.body.id;
}

/** A put of one marker item into the client's partition, through the guard. */
function writeMarker(clientId: string, sk: string): Promise<void> {
  return transactOnClient(
    companyId,
    clientId,
    [{ Put: { TableName: tableName(), Item: { PK: clientPk(companyId, clientId), SK: sk, clientId }, ConditionExpression: 'attribute_not_exists(PK)' } }],
    () => new ConflictError('The marker exists.', { code: 'marker_exists' }),
  );
}

async function markerExists(clientId: string, sk: string): Promise<boolean> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: { PK: clientPk(companyId, clientId), SK: sk }, ConsistentRead: true }));
  return out.Item !== undefined;
}

describe('clientIsWritable', () => {
  it('lets a write into a client nobody is merging or deleting through, and maps its own failed condition by index', async () => {
    const client = await newClient();
    await writeMarker(client, 'TEST#a');
    expect(await markerExists(client, 'TEST#a')).toBe(true);
    await expect(writeMarker(client, 'TEST#a')).rejects.toMatchObject({ code: 'marker_exists' });
  });

  it('refuses a write into a client being merged away (retryable 409), and lets it through once the merge is released', async () => {
    const source = await newClient();
    const target = await newClient();
    await claimMerge(companyId, source, target);
    await expect(writeMarker(source, 'TEST#m')).rejects.toBeInstanceOf(ClientBusyError);
    expect(await markerExists(source, 'TEST#m')).toBe(false);
    // The target of a merge is not claimed: it takes writes as ever.
    await writeMarker(target, 'TEST#m');
    await releaseMerge(companyId, source, target);
    await writeMarker(source, 'TEST#m');
    expect(await markerExists(source, 'TEST#m')).toBe(true);
  });

  it('lets writes through again once a merge claim is stale (its merge presumed dead)', async () => {
    const source = await newClient();
    const target = await newClient();
    await claimMerge(companyId, source, target);
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: { PK: clientPk(companyId, source), SK: clientSk },
        UpdateExpression: 'SET mergingSince = :old',
        ExpressionAttributeValues: { ':old': Date.now() - MERGE_STALE_MS - 60_000 },
      }),
    );
    await writeMarker(source, 'TEST#s');
    expect(await markerExists(source, 'TEST#s')).toBe(true);
  });

  it('refuses a write into a client being deleted (retryable 409), or into no client at all (404)', async () => {
    const client = await newClient();
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: { PK: clientPk(companyId, client), SK: clientSk },
        UpdateExpression: 'SET deleting = :t',
        ExpressionAttributeValues: { ':t': true },
      }),
    );
    await expect(writeMarker(client, 'TEST#d')).rejects.toBeInstanceOf(ClientBusyError);
    await expect(writeMarker('cl_00000000000000000000000000', 'TEST#d')).rejects.toBeInstanceOf(ClientGoneError);
    expect(statusOf(await writeMarker('cl_00000000000000000000000000', 'TEST#d').catch((e: unknown) => e))).toBe(404);
    expect(await markerExists(client, 'TEST#d')).toBe(false);
  });

  it('withRetriesWhileClientBusy waits a merge out: the step that failed while claimed succeeds after the release', async () => {
    const source = await newClient();
    const target = await newClient();
    await claimMerge(companyId, source, target);
    let rounds = 0;
    const written = withRetriesWhileClientBusy(async () => {
      rounds++;
      // The release is the step's own doing after some refusals, so the test does not depend on timing.
      if (rounds === 3) await releaseMerge(companyId, source, target);
      await writeMarker(source, 'TEST#w');
    });
    await written;
    expect(rounds).toBe(3);
    expect(await markerExists(source, 'TEST#w')).toBe(true);
  });
});
