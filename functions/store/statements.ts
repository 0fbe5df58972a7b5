import { isTransactionEntryKey, type StatementEntry, type StatementLineType } from '../domain/statement.js';
import { queryPage, tableName, type Item, type TransactItem } from './dynamo.js';
import { clientPk, statementEntryPrefix, statementEntrySk, statementMonthSk, statementYearSk } from './keys.js';
import type { StoredItem } from './mapping.js';

/**
 * A client's statement, stored so a statement reads only its period: one entry per line (`STMT#<cur>#<key>`), and the
 * sum of the entries per year (`STMTYR#`, with one attribute a month) and per month (`STMTMON#`, with one attribute a
 * day), so what comes before a period is its year's item and those before it, and its month's item. The writers of
 * the effects (`commitLedger`, invoice open) add them in the same transaction, so they always equal what the invoices
 * and transactions say. A merge moves the entries (their keys name the object, not the client) and adds the sums,
 * every part, into the target's (`mergeAs: 'sum'`); deleting the client deletes them with its partition.
 */

/** Entries to `Put` and sums to `ADD` for the new statement lines of one write (each month and year once). */
export function statementWrites(companyId: string, clientId: string, entries: readonly StatementEntry[]): TransactItem[] {
  const pk = clientPk(companyId, clientId);
  const sums = new Map<string, { currency: string; sk: string; fields: Map<string, number>; sumFields: readonly string[] }>();
  const add = (currency: string, sk: string, field: string, amount: number, sumFields: readonly string[]) => {
    const sum = sums.get(sk) ?? { currency, sk, fields: new Map<string, number>(), sumFields };
    sum.fields.set(field, (sum.fields.get(field) ?? 0) + amount);
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
      ...(e.livemode === undefined ? {} : { livemode: e.livemode }),
    };
    // An entry is written once: finding it already there means the effect was counted before (nothing is written).
    items.push({ Put: { TableName: tableName(), Item: item, ConditionExpression: 'attribute_not_exists(PK)' } });
    const month = statementMonthSk(e.currency, e.date.slice(0, 7));
    const year = statementYearSk(e.currency, e.date.slice(0, 4));
    add(e.currency, month, 'amount', e.amount, STATEMENT_MONTH_FIELDS);
    add(e.currency, month, statementDayField(e.date), e.amount, STATEMENT_MONTH_FIELDS);
    add(e.currency, year, 'amount', e.amount, STATEMENT_YEAR_FIELDS);
    add(e.currency, year, statementMonthField(e.date), e.amount, STATEMENT_YEAR_FIELDS);
  }
  for (const { currency, sk, fields, sumFields } of sums.values()) {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = statementSumValues(currency, clientId, sumFields);
    const adds = [...fields].map(([field, amount], i) => {
      names[`#f${i}`] = field;
      values[`:f${i}`] = amount;
      return `#f${i} :f${i}`;
    });
    items.push({
      Update: {
        TableName: tableName(),
        Key: { PK: pk, SK: sk },
        UpdateExpression: `SET ${STATEMENT_SUM_SET} ADD ${adds.join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
    });
  }
  return items;
}

/** The attribute of a month's sum item that holds the sum of the day of `date`. */
export const statementDayField = (date: string) => `day${date.slice(8, 10)}`;
/** The attribute of a year's sum item that holds the sum of the month of `date`. */
export const statementMonthField = (date: string) => `m${date.slice(5, 7)}`;
/** What a merge adds up: the amount and every day of a month, or every month of a year (a missing one counts as 0). */
export const STATEMENT_MONTH_FIELDS = ['amount', ...Array.from({ length: 31 }, (_, i) => statementDayField(`0000-00-${String(i + 1).padStart(2, '0')}`))];
export const STATEMENT_YEAR_FIELDS = ['amount', ...Array.from({ length: 12 }, (_, i) => statementMonthField(`0000-${String(i + 1).padStart(2, '0')}`))];

/** What every sum item carries besides its sums: merged by adding its `sumFields` into the target's item of the same SK. */
export const STATEMENT_SUM_SET = 'currency = :cur, clientId = :cid, entity = :entity, mergeAs = :sum, sumFields = :fields';
export const statementSumValues = (currency: string, clientId: string, sumFields: readonly string[]): Record<string, unknown> => ({
  ':cur': currency,
  ':cid': clientId,
  ':entity': 'statementSum',
  ':sum': 'sum',
  ':fields': [...sumFields],
});

/** How many items `statementWrites` writes at most for `count` new lines (an entry, its month and its year each). */
export const statementWriteSize = (count: number) => count * 3;

function entryFromItem(item: StoredItem): StatementEntry {
  const sk = String(item.SK);
  const key = sk.slice(statementEntryPrefix(String(item.currency)).length);
  // A transaction's entry stored before livemode existed moved through the simulator (as store/transactions.ts reads it).
  const livemode = typeof item.livemode === 'boolean' ? item.livemode : isTransactionEntryKey(key) ? false : undefined;
  return {
    currency: String(item.currency),
    key,
    date: String(item.date),
    type: item.type as StatementLineType,
    reference: String(item.reference),
    description: String(item.description),
    amount: Number(item.amount),
    ...(livemode === undefined ? {} : { livemode }),
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
 * What a statement of `from`..`to` needs, in reads that do not grow with the history: the year sums up to the period's
 * year (one per year of history; the period's own gives the months before its month), the sums of `from`'s month (its
 * days before `from`; not read on the 1st), and the entries from `from` to `to`.
 */
export async function readStatementPeriod(companyId: string, clientId: string, currency: string, from: string, to: string): Promise<StoredStatementPeriod> {
  const pk = clientPk(companyId, clientId);
  const ownYear = statementYearSk(currency, from.slice(0, 4));
  const ownMonth = statementMonthSk(currency, from.slice(0, 7));
  const [years, months, entryItems] = await Promise.all([
    between(pk, statementYearSk(currency, ''), ownYear),
    from.endsWith('-01') ? Promise.resolve([]) : between(pk, ownMonth, ownMonth),
    between(pk, statementEntrySk(currency, from), statementEntrySk(currency, `${to}#~`)),
  ]);
  let openingBalance = 0;
  for (const sum of years) {
    if (sum.SK !== ownYear) openingBalance += Number(sum.amount ?? 0);
    else for (const field of STATEMENT_YEAR_FIELDS.slice(1)) if (field < statementMonthField(from)) openingBalance += Number(sum[field] ?? 0);
  }
  for (const sum of months) for (const field of STATEMENT_MONTH_FIELDS.slice(1)) if (field < statementDayField(from)) openingBalance += Number(sum[field] ?? 0);
  return { openingBalance, entries: entryItems.map(entryFromItem) };
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
