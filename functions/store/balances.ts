import { batchGetAll, queryAll, tableName, type TransactItem } from './dynamo.js';
import { balanceSk, BALANCE_SK_PREFIX, clientPk, profileViewBalance } from './keys.js';
import type { EveryField, StoredItem } from './mapping.js';

/**
 * A client's running totals per currency (`BAL#<currency>` in the client's partition, in the profile view through
 * LSI1). Only ever moved by `ADD`, in the same transaction as the invoices and payments that move them, so they
 * always equal the sums of those; a merge adds the source's into the target's (`mergeAs: 'sum'`).
 */

/** Balance fields summed per currency on the client's `BAL#<currency>` item (and added up on merge). */
export const BALANCE_FIELDS = ['invoiced', 'paid', 'due', 'credit'] as const;

export type BalanceDelta = Partial<Record<(typeof BALANCE_FIELDS)[number], number>>;

/** A client's running totals in one currency (`BAL#<currency>`), moved by every ledger commit. */
export interface ClientBalance {
  currency: string;
  invoiced: number;
  paid: number;
  due: number;
  credit: number;
}

export function balanceFromItem(item: StoredItem): ClientBalance {
  // A field no commit has added to yet is absent from the item: it is 0.
  const balance: EveryField<ClientBalance> = {
    currency: item.currency,
    invoiced: item.invoiced ?? 0,
    paid: item.paid ?? 0,
    due: item.due ?? 0,
    credit: item.credit ?? 0,
  };
  return balance;
}

/** A client's balances, one per currency it has ever had money in (strongly consistent). */
export async function readBalances(companyId: string, clientId: string): Promise<ClientBalance[]> {
  return (await queryAll(clientPk(companyId, clientId), BALANCE_SK_PREFIX)).map(balanceFromItem);
}

/** The balances of several clients, one currency each (strongly consistent, one batch): for the automation's pages. */
export async function readBalancesOf(
  companyId: string,
  pairs: ReadonlyArray<{ clientId: string; currency: string }>,
): Promise<Array<ClientBalance & { clientId: string }>> {
  if (!pairs.length) return [];
  const items = await batchGetAll(
    pairs.map((p) => ({ PK: clientPk(companyId, p.clientId), SK: balanceSk(p.currency) })),
    { consistent: true },
  );
  return items.map((item) => ({ ...balanceFromItem(item), clientId: String(item.clientId) }));
}

/** `ADD`s deltas to the client's balance item of one currency, creating it with its profile-view key. */
export function balanceUpdate(companyId: string, clientId: string, currency: string, delta: BalanceDelta): TransactItem {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {
    ':cur': currency,
    ':lsi': profileViewBalance(currency),
    ':cid': clientId,
    ':sum': 'sum',
    ':fields': [...BALANCE_FIELDS],
    ':entity': 'balance',
  };
  const adds = BALANCE_FIELDS.map((field, i) => {
    names[`#b${i}`] = field;
    values[`:b${i}`] = delta[field] ?? 0;
    return `#b${i} :b${i}`;
  });
  return {
    Update: {
      TableName: tableName(),
      Key: { PK: clientPk(companyId, clientId), SK: balanceSk(currency) },
      UpdateExpression: `SET currency = :cur, LSI1SK = :lsi, clientId = :cid, mergeAs = :sum, sumFields = :fields, entity = :entity ADD ${adds.join(', ')}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    },
  };
}
