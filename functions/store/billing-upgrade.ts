import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConcurrentChangeError } from '../domain/errors.js';
import type { Transaction } from '../domain/invoice.js';
import { invoiceStatementEntries, transactionStatementEntries, type StatementEntry } from '../domain/statement.js';
import { transactOnClient } from './client-guard.js';
import { db, isTransactionConflict, queryAll, tableName, type Item } from './dynamo.js';
import { invoiceFromItem } from './invoices.js';
import { isConditionFailure } from './items.js';
import {
  clientInvoiceDueIndexKeys,
  clientPk,
  creditIndexKeys,
  INVOICE_SK_PREFIX,
  invoiceStatusIndexKeys,
  STATEMENT_ENTRY_SK_PREFIX,
  STATEMENT_MONTH_SK_PREFIX,
  STATEMENT_YEAR_SK_PREFIX,
  statementMonthSk,
  statementYearSk,
  TRANSACTION_SK_PREFIX,
} from './keys.js';
import {
  STATEMENT_MONTH_FIELDS,
  STATEMENT_SUM_SET,
  STATEMENT_YEAR_FIELDS,
  statementDayField,
  statementMonthField,
  statementSumValues,
  statementWrites,
} from './statements.js';
import { transactionFromItem } from './transactions.js';

/**
 * Brings a client's billing items stored before the reads of issue 13 up to date, so its statements, status lists,
 * credits and voids read only what they need: invoices get their index keys (GSI3, GSI4 by status, GSI5 by due date) and `paidBy`,
 * payments holding credit their GSI3 and GSI2 keys, and every statement line its entry (with the month and year sums; sums
 * stored before they held their days and months get them).
 * Until then those reads stay right (credits, open invoices and voids fall back to the whole ledger when the index
 * or `paidBy` is missing), except statements, which read only entries. Run once per client after deploying (the
 * lead's upgrade pass); running it again changes nothing, and it is safe alongside live writes: each write is
 * conditioned on what it was computed from, and a lost race is computed again.
 */
export async function upgradeClientBilling(
  companyId: string,
  clientId: string,
): Promise<{ invoices: number; transactions: number; entries: number; sums: number }> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await upgradeOnce(companyId, clientId);
    } catch (error) {
      if (attempt >= 4 || !(error instanceof ConcurrentChangeError || isTransactionConflict(error))) throw error;
    }
  }
}

async function upgradeOnce(companyId: string, clientId: string): Promise<{ invoices: number; transactions: number; entries: number; sums: number }> {
  const pk = clientPk(companyId, clientId);
  const [invoiceItems, transactionItems, entryItems] = await Promise.all([
    queryAll(pk, INVOICE_SK_PREFIX),
    queryAll(pk, TRANSACTION_SK_PREFIX),
    queryAll(pk, STATEMENT_ENTRY_SK_PREFIX),
  ]);
  const invoices = invoiceItems.map(invoiceFromItem);
  const transactions = transactionItems.map(transactionFromItem);

  let invoicesUpgraded = 0;
  for (const [i, item] of invoiceItems.entries()) {
    if (item.GSI3PK && item.GSI4PK && item.GSI5PK && (Array.isArray(item.paidBy) || item.paid === 0)) continue;
    const invoice = invoices[i];
    const paidBy = transactions.filter((t) => hasMoney(t) && t.applications.some((a) => a.invoiceId === invoice.id && a.amount > 0)).map((t) => t.id);
    if (await setIfUnchanged(item, { ...invoiceStatusIndexKeys(companyId, invoice), ...clientInvoiceDueIndexKeys(companyId, invoice), paidBy }))
      invoicesUpgraded++;
  }

  let transactionsUpgraded = 0;
  for (const [i, item] of transactionItems.entries()) {
    const t = transactions[i];
    const keys = creditIndexKeys(companyId, { ...t, hasMoney: hasMoney(t) });
    if (!keys || (item.GSI3PK === keys.GSI3PK && item.GSI2PK === keys.GSI2PK)) continue;
    if (await setIfUnchanged(item, keys)) transactionsUpgraded++;
  }

  // The lines no entry holds yet, written with their sums, a few at a time (a transaction holds 100 items).
  const stored = new Set(entryItems.map((item) => String(item.SK)));
  const missing: StatementEntry[] = [...invoices.flatMap(invoiceStatementEntries), ...transactions.flatMap(transactionStatementEntries)].filter(
    (e) => !stored.has(`${STATEMENT_ENTRY_SK_PREFIX}${e.currency}#${e.key}`),
  );
  for (let first = 0; first < missing.length; first += 30) {
    // An entry a live write added meanwhile fails its condition: the whole pass is computed again.
    await transactOnClient(companyId, clientId, statementWrites(companyId, clientId, missing.slice(first, first + 30)), () => new ConcurrentChangeError());
  }
  const sums = await upgradeSumParts(companyId, clientId);
  return { invoices: invoicesUpgraded, transactions: transactionsUpgraded, entries: missing.length, sums };
}

/**
 * Sets the days of each month sum and the months of each year sum to what the entries add up to where they do not
 * (sums stored before they held them); returns how many sum items were set. The sums are read before the entries, so
 * a live write in between has changed a sum read, and the write conditioned on it fails: the pass is computed again.
 */
async function upgradeSumParts(companyId: string, clientId: string): Promise<number> {
  const pk = clientPk(companyId, clientId);
  const [monthItems, yearItems] = await Promise.all([queryAll(pk, STATEMENT_MONTH_SK_PREFIX), queryAll(pk, STATEMENT_YEAR_SK_PREFIX)]);
  const stored = new Map([...monthItems, ...yearItems].map((item) => [String(item.SK), item] as const));
  const wanted = new Map<string, { currency: string; sumFields: string[]; parts: Map<string, number> }>();
  const add = (currency: string, sk: string, sumFields: string[], field: string, amount: number) => {
    const sum = wanted.get(sk) ?? { currency, sumFields, parts: new Map<string, number>() };
    sum.parts.set(field, (sum.parts.get(field) ?? 0) + amount);
    wanted.set(sk, sum);
  };
  for (const entry of await queryAll(pk, STATEMENT_ENTRY_SK_PREFIX)) {
    const currency = String(entry.currency);
    const date = String(entry.date);
    add(currency, statementMonthSk(currency, date.slice(0, 7)), STATEMENT_MONTH_FIELDS, statementDayField(date), Number(entry.amount));
    add(currency, statementYearSk(currency, date.slice(0, 4)), STATEMENT_YEAR_FIELDS, statementMonthField(date), Number(entry.amount));
  }
  let set = 0;
  for (const [sk, { currency, sumFields, parts }] of wanted) {
    const seen = stored.get(sk);
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = statementSumValues(currency, clientId, sumFields);
    const sets: string[] = [];
    const conditions: string[] = [];
    for (const [field, amount] of parts) {
      const was = seen?.[field];
      if (was === amount) continue;
      const i = sets.length;
      names[`#p${i}`] = field;
      values[`:p${i}`] = amount;
      sets.push(`#p${i} = :p${i}`);
      if (was === undefined) conditions.push(`attribute_not_exists(#p${i})`);
      else {
        values[`:w${i}`] = was;
        conditions.push(`#p${i} = :w${i}`);
      }
    }
    if (!sets.length) continue;
    try {
      await db().send(
        new UpdateCommand({
          TableName: tableName(),
          Key: { PK: pk, SK: sk },
          UpdateExpression: `SET ${STATEMENT_SUM_SET}, ${sets.join(', ')}`,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new ConcurrentChangeError();
      throw error;
    }
    set++;
  }
  return set;
}

/** The payment's money is on the ledger (domain/ledger.ts `isMoneyBearing`). */
const hasMoney = (t: Transaction) => t.status === 'succeeded' || t.status === 'partially_refunded' || t.status === 'refunded';

/** Sets attributes on an item still at the version it was read at; false when it changed or went (a live write keeps it current). */
async function setIfUnchanged(item: Item, attributes: Record<string, unknown>): Promise<boolean> {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = { ':v': item.version };
  const sets = Object.entries(attributes).map(([name, value], i) => {
    names[`#a${i}`] = name;
    values[`:a${i}`] = value;
    return `#a${i} = :a${i}`;
  });
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: { PK: item.PK, SK: item.SK },
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: 'attribute_exists(PK) AND version = :v',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}
