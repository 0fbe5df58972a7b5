import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalGateway } from '../../functions/adapters/gateway/local.js';
import { ValidationError } from '../../functions/domain/errors.js';
import { getServices } from '../../functions/services.js';
import { db, tableName } from '../../functions/store/dynamo.js';
import { clientPk } from '../../functions/store/keys.js';
import { type BillingApi, card, CARD_APPROVES, listAll, startBillingApi, summaryOf } from '../support/billing.js';
import type { ApiResponse, TestApi } from '../support/stack.js';
/**
 * Merges racing each other, a merge whose target vanishes, and merges and deletes racing writes to their client
 * (docs/api.md, Clients: "Merge and delete are exclusive with writes to the client").
 */
let stack: BillingApi;
let api: TestApi;
let seq = 0;
const unique = (stem: string) => `${stem}${++seq}${Math.random().toString(36).slice(2, 6)}`;

beforeAll(async () => {
  stack = await startBillingApi();
  api = stack.api;
});
afterAll(async () => {
  await stack?.stop();
});

function expectStatus(res: ApiResponse, status: number): void {
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${res.text.slice(0, 500)}`);
}

describe('merge races', () => {
  async function clientWithContacts(n: number): Promise<string> {
    const created = await api.staff('POST', '/v1/clients', { company: unique('Merge Co') });
    expectStatus(created, 201);
    for (let i = 0; i < n; i++)
      expectStatus(
        await api.staff('POST', `/v1/clients/${created.body.id}/contacts`, {
          type: 'billing',
          firstName: 'C',
          lastName: String(i),
          email: `c${i}@example.com`,
        }),
        201,
      );
    return created.body.id;
  }

  it('merging A into B while B is merged into A loses nothing: one merge wins, the other is refused', async () => {
    const a = await clientWithContacts(6);
    const b = await clientWithContacts(6);
    const [ab, ba] = await Promise.all([
      api.staff('POST', `/v1/clients/${a}/merge`, { intoClientId: b }),
      api.staff('POST', `/v1/clients/${b}/merge`, { intoClientId: a }),
    ]);
    // The loser is refused (409 while the winner runs; 404/400 if the winner already finished), never both lost.
    expect(ab.status === 200 || ba.status === 200).toBe(true);
    expect([400, 404, 409]).toContain(ab.status === 200 ? ba.status : ab.status);
    const survivor = ab.status === 200 ? b : a;
    const contacts = await api.staff('GET', `/v1/clients/${survivor}/contacts?limit=100`);
    expectStatus(contacts, 200);
    expect(contacts.body.data).toHaveLength(12);
  });

  it('a merge into a client that is gone by the time items move moves nothing into the void', async () => {
    const { moveClientPartition } = await import('../../functions/store/client-partition.js');
    const a = await clientWithContacts(2);
    await expect(moveClientPartition(api.facts.companyId, a, 'cl_00000000000000000000000000')).rejects.toBeInstanceOf(ValidationError);
    const contacts = await api.staff('GET', `/v1/clients/${a}/contacts`);
    expect(contacts.body.data).toHaveLength(2);
  });
});

const ROUNDS = 3;
const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);

/** Every item left in a client's partition (strongly consistent), straight from the table. */
async function partitionOf(clientId: string): Promise<Record<string, unknown>[]> {
  const out = await db().send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': clientPk(api.facts.companyId, clientId) },
      ConsistentRead: true,
    }),
  );
  return out.Items ?? [];
}

async function newClientOf(name: string): Promise<string> {
  const created = await api.staff('POST', '/v1/clients', { company: unique(name) });
  expectStatus(created, 201);
  return created.body.id;
}

/** A racing write: how to send it, and where an acknowledged one must be found after the merge. */
interface RacingWrite {
  kind: 'card' | 'recorded' | 'note' | 'contact' | 'invoice';
  send: () => Promise<ApiResponse>;
  res?: ApiResponse;
}

/** The id an answer acknowledges: a 2xx's object, or the transaction of a charge kept as credit. */
function acknowledgedId(res: ApiResponse): string | undefined {
  if (res.status >= 200 && res.status < 300) return res.body.id;
  if (res.status === 409 && res.body.code === 'applied_as_credit') return res.body.transactionId;
  return undefined;
}

describe('merge and delete racing writes to the client', () => {
  it(`a merge racing card payments, recorded payments and creates on the source loses nothing acknowledged and conserves money (${ROUNDS} rounds)`, async () => {
    const gateway = getServices().gateway as LocalGateway;
    for (let round = 0; round < ROUNDS; round++) {
      const source = await newClientOf('Merge source');
      const target = await newClientOf('Merge target');
      // Something to move, so the merge takes long enough for writes to land during it.
      for (let i = 0; i < 10; i++) expectStatus(await api.staff('POST', `/v1/clients/${source}/notes`, { summary: `Before ${i}` }), 201);
      const invoice = await api.staff('POST', `/v1/clients/${source}/invoices`, {
        lines: [{ description: 'Work', quantity: 1, unitAmount: 8000, taxable: false }],
      });
      expectStatus(invoice, 201);
      const account = await api.staff('POST', `/v1/clients/${source}/payment-accounts`, { type: 'card', card: card(CARD_APPROVES) });
      expectStatus(account, 201);
      const chargesBefore = new Set(gateway.succeededCharges().map((c) => c.idempotencyKey));
      const apply = [{ invoiceId: invoice.body.id, amount: 1000 }];

      const writes: RacingWrite[] = [
        ...Array.from(
          { length: 6 },
          (_, i): RacingWrite => ({
            kind: 'card',
            send: () =>
              api.staff('POST', `/v1/clients/${source}/payments`, {
                source: { paymentAccountId: account.body.id },
                currency: 'USD',
                apply,
                sendReceipt: i % 2 === 0,
              }),
          }),
        ),
        ...Array.from(
          { length: 4 },
          (): RacingWrite => ({
            kind: 'recorded',
            send: () => api.staff('POST', `/v1/clients/${source}/payments/record`, { type: 'cash', amount: 1000, currency: 'USD', apply }),
          }),
        ),
        ...Array.from(
          { length: 3 },
          (_, i): RacingWrite => ({
            kind: 'note',
            send: () => api.staff('POST', `/v1/clients/${source}/notes`, { summary: `Racing ${i}` }),
          }),
        ),
        ...Array.from(
          { length: 3 },
          (_, i): RacingWrite => ({
            kind: 'contact',
            send: () =>
              api.staff('POST', `/v1/clients/${source}/contacts`, { type: 'billing', firstName: 'R', lastName: String(i), email: `r${i}@example.com` }),
          }),
        ),
        ...Array.from(
          { length: 3 },
          (): RacingWrite => ({
            kind: 'invoice',
            send: () =>
              api.staff('POST', `/v1/clients/${source}/invoices`, { lines: [{ description: 'Racing', quantity: 1, unitAmount: 500, taxable: false }] }),
          }),
        ),
      ];
      expect(writes.length).toBeGreaterThanOrEqual(15);
      // The merge starts as soon as the first write is answered, so it meets the others in flight.
      let firstAnswered: () => void = () => {};
      const firstAnswer = new Promise<void>((resolve) => {
        firstAnswered = resolve;
      });
      const [merge] = await Promise.all([
        firstAnswer.then(() => api.staff('POST', `/v1/clients/${source}/merge`, { intoClientId: target })),
        ...writes.map(async (w) => {
          w.res = await w.send();
          firstAnswered();
        }),
      ]);
      expectStatus(merge, 200);

      for (const w of writes) {
        const res = w.res as ApiResponse;
        // Acknowledged, or refused as the client being merged (409) or gone (404) — never a fault.
        expect(res.status, `${w.kind}: ${res.text.slice(0, 300)}`).toBeLessThan(500);
        const id = acknowledgedId(res);
        if (!id) continue;
        const path = {
          card: '/v1/transactions/',
          recorded: '/v1/transactions/',
          invoice: '/v1/invoices/',
          note: `/v1/clients/${target}/notes/`,
          contact: `/v1/clients/${target}/contacts/`,
        }[w.kind];
        const found = await api.staff('GET', `${path}${id}`);
        expect(found.status, `acknowledged ${w.kind} ${id} on the target`).toBe(200);
        expect(found.body.clientId).toBe(target);
      }
      expect(await partitionOf(source)).toEqual([]);

      // Money: what the gateway approved this round plus the recorded payments acknowledged is on the target, exactly.
      const approved = sum(
        gateway
          .succeededCharges()
          .filter((c) => !chargesBefore.has(c.idempotencyKey))
          .map((c) => c.amount),
      );
      const recorded = sum(writes.filter((w) => w.kind === 'recorded' && acknowledgedId(w.res as ApiResponse)).map(() => 1000));
      const summary = (await summaryOf(api, target)).USD ?? { paid: 0, credit: 0 };
      expect(summary.paid + summary.credit).toBe(approved + recorded);
      const transactions = await listAll(api, `/v1/clients/${target}/transactions`);
      const succeeded = transactions.filter((t) => t.status === 'succeeded');
      expect(sum(succeeded.map((t) => t.amount))).toBe(approved + recorded);
    }

    // Invoice numbers stay gapless: every numbered invoice of the company is still there.
    const numbers = (await listAll(api, '/v1/invoices'))
      .map((i) => i.number)
      .filter((n): n is number => typeof n === 'number')
      .sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, i) => i + 1));
  });

  it(`a delete racing note and contact creates leaves no orphan (${ROUNDS} rounds)`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const client = await newClientOf('Deleted');
      for (let i = 0; i < 10; i++) expectStatus(await api.staff('POST', `/v1/clients/${client}/notes`, { summary: `Before ${i}` }), 201);
      const create = (i: number) =>
        i % 2 === 0
          ? api.staff('POST', `/v1/clients/${client}/notes`, { summary: `Racing ${i}` })
          : api.staff('POST', `/v1/clients/${client}/contacts`, { type: 'billing', firstName: 'R', lastName: String(i), email: `r${i}@example.com` });
      // The delete starts as soon as a first wave of creates begins answering, together with a second wave.
      const firstWave = Array.from({ length: 8 }, (_, i) => create(i));
      await Promise.race(firstWave);
      const [deleted, ...secondWave] = await Promise.all([api.staff('DELETE', `/v1/clients/${client}`), ...Array.from({ length: 8 }, (_, i) => create(8 + i))]);
      const answers = [...(await Promise.all(firstWave)), ...secondWave];
      expectStatus(deleted, 204);
      for (const res of answers) expect([201, 404, 409], res.text.slice(0, 300)).toContain(res.status);
      // Whatever was acknowledged went with the client: nothing is left in its partition.
      expect(await partitionOf(client)).toEqual([]);
      expect((await api.staff('GET', `/v1/clients/${client}`)).status).toBe(404);
    }
  });
});
