import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyCredits } from '../../functions/billing/credits/apply-credits.js';
import { listVisibleInvoices } from '../../functions/billing/invoices/read-invoices.js';
import { recordPayment } from '../../functions/billing/payments/record-payment.js';
import { buildClientStatement } from '../../functions/billing/statements/build-statement.js';
import type { Company } from '../../functions/domain/company.js';
import { buildStatement } from '../../functions/domain/statement.js';
import { upgradeClientBilling } from '../../functions/store/billing-upgrade.js';
import { db, queryAll, tableName } from '../../functions/store/dynamo.js';
import { clientPk, INVOICE_SK_PREFIX, STATEMENT_MONTH_SK_PREFIX, STATEMENT_YEAR_SK_PREFIX, TRANSACTION_SK_PREFIX } from '../../functions/store/keys.js';
import { loadLedger } from '../../functions/store/ledger.js';
import { indexedCreditIds, creditHoldersPage } from '../../functions/store/transactions.js';
import { clientWithHistory } from '../billing/history.js';
import { seedCompany } from '../billing/invoices/fixtures.js';
import { useFreshTables } from '../support/tables.js';

/** A client whose billing items were stored before statement entries, status-index keys and paidBy existed. */
let company: Company;

beforeAll(async () => {
  await useFreshTables();
  company = await seedCompany();
});

/** Takes away what the writers of issue 13 add, leaving the items as an older version stored them. */
async function asStoredBefore(clientId: string): Promise<void> {
  const pk = clientPk(company.id, clientId);
  const send = (command: UpdateCommand | DeleteCommand) => db().send(command);
  for (const item of await queryAll(pk, 'STMT')) await send(new DeleteCommand({ TableName: tableName(), Key: { PK: pk, SK: item.SK } }));
  for (const item of await queryAll(pk, INVOICE_SK_PREFIX)) {
    await send(
      new UpdateCommand({
        TableName: tableName(),
        Key: { PK: pk, SK: item.SK },
        UpdateExpression: 'REMOVE GSI3PK, GSI3SK, GSI4PK, GSI4SK, GSI5PK, GSI5SK, paidBy',
      }),
    );
  }
  for (const item of await queryAll(pk, TRANSACTION_SK_PREFIX)) {
    await send(new UpdateCommand({ TableName: tableName(), Key: { PK: pk, SK: item.SK }, UpdateExpression: 'REMOVE GSI3PK, GSI3SK, GSI2PK, GSI2SK' }));
  }
}

describe('upgradeClientBilling', () => {
  it('writes the statement entries, index keys and paidBy an older version did not, once', async () => {
    const { clientId, invoices } = await clientWithHistory(company, 12);
    await recordPayment({ companyId: company.id, principal: null, clientId, type: 'cash', amount: 250, currency: 'USD', date: '2030-08-01' });
    await asStoredBefore(clientId);
    const statementOf = (from: string, to: string) => buildClientStatement({ companyId: company.id, clientId, from, to }).then((b) => b.statement);
    expect((await statementOf('2030-01-01', '2030-12-31')).lines).toEqual([]);

    const upgraded = await upgradeClientBilling(company.id, clientId);
    // 12 invoices, the payments' and the credit's lines: 12 + 2 + 1.
    // Written with their entries, the sums need no setting.
    expect(upgraded).toEqual({ invoices: 12, transactions: 1, entries: 15, sums: 0 });
    expect(await upgradeClientBilling(company.id, clientId)).toEqual({ invoices: 0, transactions: 0, entries: 0, sums: 0 });
    // A payment stored with its client's credit key but before the company's credit index gets the latter.
    for (const item of await queryAll(clientPk(company.id, clientId), TRANSACTION_SK_PREFIX)) {
      await db().send(new UpdateCommand({ TableName: tableName(), Key: { PK: item.PK, SK: item.SK }, UpdateExpression: 'REMOVE GSI2PK, GSI2SK' }));
    }
    expect(await upgradeClientBilling(company.id, clientId)).toMatchObject({ transactions: 1 });

    const loaded = await loadLedger(company.id, clientId);
    for (const [from, to] of [
      ['2030-01-01', '2030-12-31'],
      ['2030-04-02', '2030-09-09'],
      ['2031-01-01', '2031-01-31'],
    ]) {
      expect(await statementOf(from, to)).toEqual(buildStatement('USD', from, to, loaded.invoices.values(), loaded.transactions.values()));
    }
    const open = await listVisibleInvoices({ companyId: company.id, filter: { clientId, status: 'open', excludeDrafts: false }, limit: 20 });
    expect(open.items.map((i) => i.id).sort()).toEqual(
      invoices
        .slice(-2)
        .map((i) => i.id)
        .sort(),
    );
    expect(await indexedCreditIds(company.id, clientId, 'USD')).toHaveLength(1);
    // And in the company's credit index, where the automation's applyCredits looks.
    const holders = await creditHoldersPage(company.id, 100);
    expect(holders.items.filter((t) => t.clientId === clientId)).toHaveLength(1);
    expect((await applyCredits({ companyId: company.id, principal: null, clientId })).map((a) => a.amount)).toEqual([250]);
  });

  it('gives sums stored before they held their days and months those, so statements from mid-month or mid-year open right', async () => {
    const { clientId } = await clientWithHistory(company, 24);
    await recordPayment({ companyId: company.id, principal: null, clientId, type: 'cash', amount: 250, currency: 'USD', date: '2030-08-01' });
    const pk = clientPk(company.id, clientId);
    const sums = [...(await queryAll(pk, STATEMENT_MONTH_SK_PREFIX)), ...(await queryAll(pk, STATEMENT_YEAR_SK_PREFIX))];
    // As stored before the sums held their days and months.
    for (const item of sums) {
      const parts = Object.keys(item).filter((k) => /^(day|m)\d\d$/.test(k));
      const names = Object.fromEntries(parts.map((k, i) => [`#p${i}`, k]));
      const remove = `REMOVE ${Object.keys(names).join(', ')}`;
      await db().send(new UpdateCommand({ TableName: tableName(), Key: { PK: pk, SK: item.SK }, UpdateExpression: remove, ExpressionAttributeNames: names }));
    }
    // And one day off (as a lost write would leave it) is set right too.
    const [day] = Object.keys(sums[0]).filter((k) => /^day\d\d$/.test(k));
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: { PK: pk, SK: sums[0].SK },
        UpdateExpression: 'SET #d = :a',
        ExpressionAttributeNames: { '#d': day },
        ExpressionAttributeValues: { ':a': 1 },
      }),
    );

    expect(await upgradeClientBilling(company.id, clientId)).toEqual({ invoices: 0, transactions: 0, entries: 0, sums: sums.length });
    expect(await upgradeClientBilling(company.id, clientId)).toMatchObject({ sums: 0 });
    expect([...(await queryAll(pk, STATEMENT_MONTH_SK_PREFIX)), ...(await queryAll(pk, STATEMENT_YEAR_SK_PREFIX))]).toEqual(sums);
    const loaded = await loadLedger(company.id, clientId);
    for (const [from, to] of [
      ['2030-03-20', '2030-03-31'],
      ['2030-08-02', '2030-12-31'],
      ['2030-12-31', '2031-01-31'],
    ]) {
      const { statement } = await buildClientStatement({ companyId: company.id, clientId, from, to });
      expect(statement).toEqual(buildStatement('USD', from, to, loaded.invoices.values(), loaded.transactions.values()));
    }
  });
});
