import { beforeAll, describe, expect, it } from 'vitest';
import { addPaymentAccount } from '../../../functions/billing/payment-accounts/add-payment-account.js';
import { deletePaymentAccount } from '../../../functions/billing/payment-accounts/delete-payment-account.js';
import { clearAutoDebitAccount, setAutoDebitAccount } from '../../../functions/billing/payment-accounts/set-auto-debit-account.js';
import { mergeClients } from '../../../functions/clients/merge-clients.js';
import type { Client } from '../../../functions/domain/client.js';
import type { Company } from '../../../functions/domain/company.js';
import { ConcurrentChangeError, NotFoundError, RuleViolationError } from '../../../functions/domain/errors.js';
import { newId } from '../../../functions/domain/ids.js';
import { newPaymentAccount } from '../../../functions/domain/payment-account.js';
import type { Principal } from '../../../functions/domain/principal.js';
import { getClient, requireClient } from '../../../functions/store/clients.js';
import {
  deletePaymentAccount as deleteStoredAccount,
  insertPaymentAccount,
  listPaymentAccounts,
  setAutoDebitAccount as writeAutoDebitAccount,
} from '../../../functions/store/payment-accounts.js';
import { useFreshTables } from '../../support/tables.js';
import { CARD_APPROVES, MASTERCARD } from '../../support/billing.js';
import { seedClient, seedCompany } from '../invoices/fixtures.js';

/**
 * set-auto-debit-account (and the store's one writer of "the client's autoDebitAccountId names the one account
 * flagged autoDebit") called directly against DynamoDB Local: setting, clearing, deleting, merging and racing.
 */
let company: Company;
let staff: Principal;

beforeAll(async () => {
  await useFreshTables();
  company = await seedCompany([]);
  staff = { role: 'staff', userId: 'usr_staff', username: 'staff', companyId: company.id };
});

const addCard = async (client: Client, number = CARD_APPROVES, autoDebit = false) =>
  addPaymentAccount({
    companyId: company.id,
    principal: staff,
    clientId: client.id,
    details: { type: 'card', card: { number, expMonth: 12, expYear: 2099 } },
    autoDebit,
  });

/** The client's auto-debit account and the ids of the accounts flagged autoDebit: the invariant is `[id] ↔ id`. */
async function autoDebitState(clientId: string): Promise<{ named: string | null; flagged: string[] }> {
  const client = await requireClient(company.id, clientId);
  const accounts = (await listPaymentAccounts(company.id, clientId, 100)).items;
  return { named: client.autoDebitAccountId, flagged: accounts.filter((a) => a.autoDebit).map((a) => a.id) };
}

describe('setAutoDebitAccount', () => {
  it('names the account on the client and flags it; moving it unflags the previous one; each change moves the client version', async () => {
    const client = await seedClient(company);
    const a = await addCard(client);
    const b = await addCard(client, MASTERCARD);

    const setA = await setAutoDebitAccount({ companyId: company.id, principal: staff, clientId: client.id, accountId: a.id });
    expect(setA).toMatchObject({ id: a.id, autoDebit: true });
    expect(await autoDebitState(client.id)).toEqual({ named: a.id, flagged: [a.id] });
    const afterA = await requireClient(company.id, client.id);
    expect(afterA.version).toBe(client.version + 1);

    await setAutoDebitAccount({ companyId: company.id, principal: staff, clientId: client.id, accountId: b.id });
    expect(await autoDebitState(client.id)).toEqual({ named: b.id, flagged: [b.id] });
    expect((await requireClient(company.id, client.id)).version).toBe(afterA.version + 1);
  });

  it('clears: no account is named or flagged', async () => {
    const client = await seedClient(company);
    await addCard(client, CARD_APPROVES, true);
    await clearAutoDebitAccount({ companyId: company.id, principal: staff, clientId: client.id });
    expect(await autoDebitState(client.id)).toEqual({ named: null, flagged: [] });
  });

  it('refuses a disabled account (account_disabled) and an unknown one (not found), changing nothing', async () => {
    const client = await seedClient(company);
    const active = await addCard(client, CARD_APPROVES, true);
    const disabled = {
      ...newPaymentAccount({
        id: newId('pa'),
        clientId: client.id,
        type: 'card',
        method: { brand: 'visa', last4: '4242', expMonth: 12, expYear: 2099 },
        contact: {},
        gateway: 'local',
        secret: 'x',
        now: '2030-01-01T00:00:00.000Z',
      }),
      status: 'disabled' as const,
    };
    await insertPaymentAccount(company.id, disabled);
    const before = await requireClient(company.id, client.id);

    const refused = setAutoDebitAccount({ companyId: company.id, principal: staff, clientId: client.id, accountId: disabled.id });
    await expect(refused).rejects.toBeInstanceOf(RuleViolationError);
    await expect(refused).rejects.toMatchObject({ code: 'account_disabled' });
    await expect(writeAutoDebitAccount(company.id, before, disabled.id)).rejects.toMatchObject({ code: 'account_disabled' });
    await expect(setAutoDebitAccount({ companyId: company.id, principal: staff, clientId: client.id, accountId: 'pa_missing' })).rejects.toBeInstanceOf(
      NotFoundError,
    );

    expect(await autoDebitState(client.id)).toEqual({ named: active.id, flagged: [active.id] });
    expect((await requireClient(company.id, client.id)).version).toBe(before.version);
  });

  it('two calls from the same client version: exactly one wins, the other is a ConcurrentChangeError, and the state is the winner’s', async () => {
    const client = await seedClient(company);
    const a = await addCard(client);
    const b = await addCard(client, MASTERCARD);
    const snapshot = await requireClient(company.id, client.id);

    const settled = await Promise.allSettled([writeAutoDebitAccount(company.id, snapshot, a.id), writeAutoDebitAccount(company.id, snapshot, b.id)]);

    const won = settled.map((s, i) => (s.status === 'fulfilled' ? [a.id, b.id][i] : undefined)).filter((id) => id !== undefined);
    expect(won).toHaveLength(1);
    const lost = settled.find((s) => s.status === 'rejected');
    expect(lost?.status === 'rejected' && lost.reason).toBeInstanceOf(ConcurrentChangeError);
    expect(await autoDebitState(client.id)).toEqual({ named: won[0], flagged: [won[0]] });
  });

  it('a client changed since it was read: ConcurrentChangeError, nothing written', async () => {
    const client = await seedClient(company);
    const a = await addCard(client, CARD_APPROVES, true);
    const b = await addCard(client, MASTERCARD);
    const stale = client; // read before `a` became the auto-debit account

    await expect(writeAutoDebitAccount(company.id, stale, b.id)).rejects.toBeInstanceOf(ConcurrentChangeError);
    await expect(writeAutoDebitAccount(company.id, stale, null)).rejects.toBeInstanceOf(ConcurrentChangeError);
    expect(await autoDebitState(client.id)).toEqual({ named: a.id, flagged: [a.id] });
  });
});

describe('deleting a payment account', () => {
  it('deleting the auto-debit account leaves the client without one; deleting another leaves it alone', async () => {
    const client = await seedClient(company);
    const a = await addCard(client, CARD_APPROVES, true);
    const b = await addCard(client, MASTERCARD);

    await deletePaymentAccount({ companyId: company.id, principal: staff, clientId: client.id, accountId: b.id });
    expect(await autoDebitState(client.id)).toEqual({ named: a.id, flagged: [a.id] });

    await deletePaymentAccount({ companyId: company.id, principal: staff, clientId: client.id, accountId: a.id });
    expect(await autoDebitState(client.id)).toEqual({ named: null, flagged: [] });
    expect((await listPaymentAccounts(company.id, client.id, 10)).items).toEqual([]);
    await expect(deletePaymentAccount({ companyId: company.id, principal: staff, clientId: client.id, accountId: a.id })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('the store refuses to delete, with a stale client, an account that became the auto-debit one meanwhile', async () => {
    const client = await seedClient(company);
    const a = await addCard(client);
    const stale = await requireClient(company.id, client.id);
    await setAutoDebitAccount({ companyId: company.id, principal: staff, clientId: client.id, accountId: a.id });

    await expect(deleteStoredAccount(company.id, stale, a.id)).rejects.toBeInstanceOf(ConcurrentChangeError);
    expect(await autoDebitState(client.id)).toEqual({ named: a.id, flagged: [a.id] });
  });
});

describe('merging clients', () => {
  it('the target keeps its own auto-debit account and the moved one is unflagged; without one it takes the source’s', async () => {
    const target = await seedClient(company);
    const kept = await addCard(target, CARD_APPROVES, true);
    const source = await seedClient(company);
    const moved = await addCard(source, MASTERCARD, true);

    await mergeClients(company.id, source.id, target.id, staff);

    expect(await getClient(company.id, source.id)).toBeUndefined();
    expect(await autoDebitState(target.id)).toEqual({ named: kept.id, flagged: [kept.id] });
    expect((await listPaymentAccounts(company.id, target.id, 10)).items.map((a) => a.id).sort()).toEqual([kept.id, moved.id].sort());

    const bare = await seedClient(company);
    await mergeClients(company.id, target.id, bare.id, staff);
    expect(await autoDebitState(bare.id)).toEqual({ named: kept.id, flagged: [kept.id] });
  });
});
