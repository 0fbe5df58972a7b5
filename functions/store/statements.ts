import type { StatementEntry, StatementLineType } from '../domain/statement.js';
import { queryPage, tableName, type Item, type TransactItem } from './dynamo.js';
import { clientPk, statementEntryPrefix, statementEntrySk, statementMonthSk, statementYearSk } from './keys.js';
import type { StoredItem } from './mapping.js';

/**
 * A client's statement, stored so a statement reads only its period: one entry per line (`STMT#<cur>#<key>`), and the
 * sum of the entries per month and per year (`STMTMON#`, `STMTYR#`). The writers of the effects (`commitLedger`,
 * invoice open) add them in the same transaction, so they always equal what the invoices and transactions say. A
 * merge moves the entries (their keys name the object, not the client) and adds the sums into the target's
 * (`mergeAs: 'sum'`); deleting the client deletes them with its partition.
 */

/** Entries to `Put` and sums to `ADD` for the new statement lines of one write (each month and year once). */
export function statementWrites(companyId: string, clientId: string, entries: readonly StatementEntry[]): TransactItem[] {
  const pk = clientPk(companyId, clientId);
  const sums = new Map<string, { currency: string; sk: string; amount: number }>();
  const add = (currency: string, sk: string, amount: number) => {
    const sum = sums.get(sk) ?? { currency, sk, amount: 0 };
    sum.amount += amount;
    sums.set(sk, sum);
  };
  const items: TransactItem[] = [];
  for (const e of entries) {
    const item: Item = {
      PK: pk,
      SK: statementEntrySk(e.currency, e.key),
      entity: 'statementEntry',
      clientId,
      currency: e.currency,
      date: e.date,
      type: e.type,
      reference: e.reference,
      description: e.description,
      amount: e.amount,
    };
    // An entry is written once: finding it already there means the effect was counted before (nothing is written).
    items.push({ Put: { TableName: tableName(), Item: item, ConditionExpression: 'attribute_not_exists(PK)' } });
    add(e.currency, statementMonthSk(e.currency, e.date.slice(0, 7)), e.amount);
    add(e.currency, statementYearSk(e.currency, e.date.slice(0, 4)), e.amount);
  }
  for (const { currency, sk, amount } of sums.values()) {
    items.push({
      Update: {
        TableName: tableName(),
        Key: { PK: pk, SK: sk },
        UpdateExpression: 'SET currency = :cur, clientId = :cid, entity = :entity, mergeAs = :sum, sumFields = :fields ADD amount :amount',
        ExpressionAttributeValues: { ':cur': currency, ':cid': clientId, ':entity': 'statementSum', ':sum': 'sum', ':fields': ['amount'], ':amount': amount },
      },
    });
  }
  return items;
}

/** How many items `statementWrites` writes at most for `count` new lines (an entry, its month and its year each). */
export const statementWriteSize = (count: number) => count * 3;

function entryFromItem(item: StoredItem): StatementEntry {
  const sk = String(item.SK);
  return {
    currency: String(item.currency),
    key: sk.slice(statementEntryPrefix(String(item.currency)).length),
    date: String(item.date),
    type: item.type as StatementLineType,
    reference: String(item.reference),
    description: String(item.description),
    amount: Number(item.amount),
  };
}

/** Every item of a key range of the client's partition (strongly consistent). */
async function between(pk: string, low: string, high: string): Promise<Item[]> {
  const items: Item[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await queryPage({
      KeyConditionExpression: 'PK = :pk AND SK BETWEEN :low AND :high',
      ExpressionAttributeValues: { ':pk': pk, ':low': low, ':high': high },
      ExclusiveStartKey: startKey,
      ConsistentRead: true,
    });
    items.push(...page.items);
    startKey = page.lastKey;
  } while (startKey);
  return items;
}

export interface StoredStatementPeriod {
  /** The sum of every line before `from`. */
  openingBalance: number;
  /** The lines from `from` to `to`, in no particular order. */
  entries: StatementEntry[];
}

/**
 * What a statement of `from`..`to` needs, in three reads that do not grow with the history: the year sums before the
 * period's year (one per year of history), the month sums of that year before its month (at most 11), and the
 * entries from the first of `from`'s month to `to` (those before `from` count into the opening balance).
 */
export async function readStatementPeriod(companyId: string, clientId: string, currency: string, from: string, to: string): Promise<StoredStatementPeriod> {
  const pk = clientPk(companyId, clientId);
  const year = from.slice(0, 4);
  const month = from.slice(5, 7);
  const previousYear = String(Number(year) - 1).padStart(4, '0');
  const previousMonth = String(Number(month) - 1).padStart(2, '0');
  const [years, months, entryItems] = await Promise.all([
    between(pk, statementYearSk(currency, ''), statementYearSk(currency, previousYear)),
    month === '01' ? Promise.resolve([]) : between(pk, statementMonthSk(currency, `${year}-01`), statementMonthSk(currency, `${year}-${previousMonth}`)),
    between(pk, statementEntrySk(currency, `${year}-${month}-01`), statementEntrySk(currency, `${to}#~`)),
  ]);
  const entries = entryItems.map(entryFromItem);
  let openingBalance = 0;
  for (const sum of [...years, ...months]) openingBalance += Number(sum.amount ?? 0);
  for (const e of entries) if (e.date < from) openingBalance += e.amount;
  return { openingBalance, entries: entries.filter((e) => e.date >= from) };
}

/** The client has had statement lines in this currency at some time (one item read at most). */
export async function hasStatementHistory(companyId: string, clientId: string, currency: string): Promise<boolean> {
  const page = await queryPage({
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :p)',
    ExpressionAttributeValues: { ':pk': clientPk(companyId, clientId), ':p': statementYearSk(currency, '') },
    Limit: 1,
    ConsistentRead: true,
  });
  return page.items.length > 0;
}
