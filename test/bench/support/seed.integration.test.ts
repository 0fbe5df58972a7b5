import { randomBytes } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { clientDraft, seedClients } from '../../../bench/support/seed.js';
import { createCompany } from '../../../functions/companies/create-company.js';
import { getClient, insertClient, listClients } from '../../../functions/store/clients.js';
import { db, tableName } from '../../../functions/store/dynamo.js';
import { useFreshTables } from '../../support/tables.js';

/**
 * The bench seeder writes 5,000 clients in batches instead of one transaction each: what it writes must be what
 * `insertClient` writes, item for item, or the read benchmark would measure a table the API never makes.
 */
beforeAll(async () => {
  await useFreshTables();
});

async function company(): Promise<{ id: string; groupId: string }> {
  const username = `boss${randomBytes(3).toString('hex')}`;
  const created = await createCompany({
    name: 'Seeded Ltd',
    defaultCurrency: 'USD',
    timeZone: 'UTC',
    staff: { username, email: `${username}@example.com`, password: 'a good password' },
  });
  return { id: created.company.id, groupId: created.defaultGroup.id };
}

async function everyItem(): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const out = await db().send(new ScanCommand({ TableName: tableName(), ExclusiveStartKey: startKey, ConsistentRead: true }));
    items.push(...(out.Items ?? []));
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/** A company's items written since `before`, with its own ids replaced, sorted: comparable across companies. */
async function writtenSince(before: Set<string>, co: { id: string; groupId: string }): Promise<string[]> {
  return (await everyItem())
    .map((item) => JSON.stringify(item, Object.keys(item).sort()))
    .filter((text) => !before.has(text) && text.includes(co.id))
    .map((text) => text.replaceAll(co.id, '<company>').replaceAll(co.groupId, '<group>'))
    .sort();
}

describe('seedClients', () => {
  it('writes the items insertClient writes, and the counter ends at the highest number', async () => {
    const real = await company();
    const seeded = await company();
    const before = new Set((await everyItem()).map((item) => JSON.stringify(item, Object.keys(item).sort())));
    const drafts = (groupId: string) => [clientDraft(0, groupId), clientDraft(1, groupId, 'inactive'), clientDraft(2, groupId)];
    const realDrafts = drafts(real.groupId);
    // The same client ids in both companies, so the items compare one for one.
    const seededDrafts = drafts(seeded.groupId).map((d, i) => ({ ...d, id: realDrafts[i].id }));
    for (const d of realDrafts) await insertClient(real.id, d);
    await seedClients(seeded.id, seededDrafts);

    const expected = await writtenSince(before, real);
    expect(expected.length).toBeGreaterThan(3 * 5);
    expect(await writtenSince(before, seeded)).toEqual(expected);
  });

  it('leaves a company the API goes on with: the next client gets the next number, lists and reads find them', async () => {
    const co = await company();
    const drafts = Array.from({ length: 60 }, (_, i) => clientDraft(i, co.groupId));
    await seedClients(co.id, drafts);
    // Without a number, as the API creates one.
    const { number: _given, ...unnumbered } = clientDraft(60, co.groupId);
    const next = await insertClient(co.id, unnumbered);
    expect(next.number).toBe(61);
    expect((await getClient(co.id, drafts[42].id))?.lastName).toBe('Family42');
    const page = await listClients(co.id, { sort: 'number', descending: true, limit: 3 });
    expect(page.items.map((c) => c.number)).toEqual([61, 60, 59]);
  });
});
