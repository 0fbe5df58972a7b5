import type { StatementEntry, StatementLineType } from '../domain/statement.js';
import { queryPage, tableName, type Item, type TransactItem } from './dynamo.js';
import { clientPk, statementDaysSk, statementEntryPrefix, statementEntrySk, statementMonthSk, statementYearSk } from './keys.js';
import type { StoredItem } from './mapping.js';

/**
 * A client's statement, stored so a statement reads only its period: one entry per line (`STMT#<cur>#<key>`), and the
 * sum of the entries per month and per year (`STMTMON#`, `STMTYR#`) and per day (`STMTDAYS#`, one item a month with
 * an attribute a day, so the days before a period in its month are one small item). The writers of the effects (`commitLedger`,
 * invoice open) add them in the same transaction, so they always equal what the invoices and transactions say. A
 * merge moves the entries (their keys name the object, not the client) and adds the sums into the target's
 * (`mergeAs: 'sum'`); deleting the client deletes them with its partition.
 */

/** Entries to `Put` and sums to `ADD` for the new statement lines of one write (each month, year and month's days once). */
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
    };
    // An entry is written once: finding it already there means the effect was counted before (nothing is written).
    items.push({ Put: { TableName: tableName(), Item: item, ConditionExpression: 'attribute_not_exists(PK)' } });
    add(e.currency, statementMonthSk(e.currency, e.date.slice(0, 7)), 'amount', e.amount, AMOUNT_FIELDS);
    add(e.currency, statementYearSk(e.currency, e.date.slice(0, 4)), 'amount', e.amount, AMOUNT_FIELDS);
    add(e.currency, statementDaysSk(e.currency, e.date.slice(0, 7)), statementDayField(e.date), e.amount, STATEMENT_DAY_FIELDS);
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

const AMOUNT_FIELDS = ['amount'];
/** A month's day sums: `day01`…`day31`, every one summed on merge (a missing one counts as 0). */
export const STATEMENT_DAY_FIELDS = Array.from({ length: 31 }, (_, i) => `day${String(i + 1).padStart(2, '0')}`);
/** The attribute of a month's day-sums item that holds the sum of `date`. */
export const statementDayField = (date: string) => `day${date.slice(8, 10)}`;

/** What every sum item carries besides its sums: merged by adding its `sumFields` into the target's item of the same SK. */
export const STATEMENT_SUM_SET = 'currency = :cur, clientId = :cid, entity = :entity, mergeAs = :sum, sumFields = :fields';
export const statementSumValues = (currency: string, clientId: string, sumFields: readonly string[]): Record<string, unknown> => ({
  ':cur': currency,
  ':cid': clientId,
  ':entity': 'statementSum',
  ':sum': 'sum',
  ':fields': [...sumFields],
});

/** How many items `statementWrites` writes at most for `count` new lines (an entry, its month, year and day sums each). */
export const statementWriteSize = (count: number) => count * 4;

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
 * What a statement of `from`..`to` needs, in reads that do not grow with the history: the year sums before the
 * period's year (one per year of history), the month sums of that year before its month (at most 11), the day sums of
 * that month (one item; not read when `from` is the 1st), and the entries from `from` to `to`.
 */
export async function readStatementPeriod(companyId: string, clientId: string, currency: string, from: string, to: string): Promise<StoredStatementPeriod> {
  const pk = clientPk(companyId, clientId);
  const year = from.slice(0, 4);
  const month = from.slice(5, 7);
  const day = from.slice(8, 10);
  const previousYear = String(Number(year) - 1).padStart(4, '0');
  const previousMonth = String(Number(month) - 1).padStart(2, '0');
  const [years, months, days, entryItems] = await Promise.all([
    between(pk, statementYearSk(currency, ''), statementYearSk(currency, previousYear)),
    month === '01' ? Promise.resolve([]) : between(pk, statementMonthSk(currency, `${year}-01`), statementMonthSk(currency, `${year}-${previousMonth}`)),
    day === '01' ? Promise.resolve([]) : between(pk, statementDaysSk(currency, `${year}-${month}`), statementDaysSk(currency, `${year}-${month}`)),
    between(pk, statementEntrySk(currency, from), statementEntrySk(currency, `${to}#~`)),
  ]);
  let openingBalance = 0;
  for (const sum of [...years, ...months]) openingBalance += Number(sum.amount ?? 0);
  for (const sums of days)
    for (let d = 1; d < Number(day); d++) openingBalance += Number(sums[statementDayField(`${from.slice(0, 8)}${String(d).padStart(2, '0')}`)] ?? 0);
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
