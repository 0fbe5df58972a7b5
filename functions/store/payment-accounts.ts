import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Client } from '../domain/client.js';
import { ConcurrentChangeError, NotFoundError, RuleViolationError } from '../domain/errors.js';
import { isUsable, type PaymentAccount } from '../domain/payment-account.js';
import { db, queryAll, queryPage, tableName, transact, type Page, type TransactItem } from './dynamo.js';
import { isConditionFailure, nowIso, staleOrGone } from './items.js';
import type { EveryField, StoredItem } from './mapping.js';
import { clientPk, clientSk, PAYMENT_ACCOUNT_SK_PREFIX, paymentAccountSk } from './keys.js';
import { clientWritableCondition, transactOnClient } from './client-guard.js';

/**
 * A client's payment accounts (`PA#<id>` in the client's partition), and the one writer of the rule "the client's
 * `autoDebitAccountId` names the one account flagged `autoDebit`" (`setAutoDebitAccount`).
 */

const accountKey = (companyId: string, clientId: string, accountId: string) => ({ PK: clientPk(companyId, clientId), SK: paymentAccountSk(accountId) });

export function paymentAccountToItem(companyId: string, account: PaymentAccount) {
  return { ...accountKey(companyId, account.clientId, account.id), entity: 'paymentAccount', ...account };
}

export function paymentAccountFromItem(item: StoredItem): PaymentAccount {
  const account: EveryField<PaymentAccount> = {
    id: item.id,
    clientId: item.clientId,
    type: item.type,
    brand: item.brand,
    last4: item.last4,
    expMonth: item.expMonth,
    expYear: item.expYear,
    accountType: item.accountType,
    status: item.status,
    autoDebit: item.autoDebit,
    contact: item.contact,
    gateway: item.gateway,
    secret: item.secret,
    consecutiveDeclines: item.consecutiveDeclines ?? 0,
    // Absent on accounts stored before auto-debit counted attempts.
    lastCountedAttemptId: item.lastCountedAttemptId ?? null,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
    version: item.version,
  };
  return account;
}

export async function getPaymentAccount(companyId: string, clientId: string, accountId: string): Promise<PaymentAccount | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: accountKey(companyId, clientId, accountId), ConsistentRead: true }));
  return out.Item ? paymentAccountFromItem(out.Item) : undefined;
}

export async function requirePaymentAccount(companyId: string, clientId: string, accountId: string): Promise<PaymentAccount> {
  const account = await getPaymentAccount(companyId, clientId, accountId);
  if (!account) throw new NotFoundError('No such payment account.');
  return account;
}

/** One page of a client's accounts, oldest first. */
export async function listPaymentAccounts(
  companyId: string,
  clientId: string,
  limit: number,
  startKey?: Record<string, unknown>,
): Promise<Page<PaymentAccount>> {
  const page = await queryPage<StoredItem>({
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
    ExpressionAttributeValues: { ':pk': clientPk(companyId, clientId), ':prefix': PAYMENT_ACCOUNT_SK_PREFIX },
    Limit: limit,
    ExclusiveStartKey: startKey,
  });
  return { items: page.items.map(paymentAccountFromItem), lastKey: page.lastKey };
}

/** Writes a new account (always without the auto-debit flag: only `setAutoDebitAccount` sets it). */
export async function insertPaymentAccount(companyId: string, account: PaymentAccount): Promise<void> {
  if (account.autoDebit) throw new Error('A new payment account is made the auto-debit account through setAutoDebitAccount.');
  await transactOnClient(
    companyId,
    account.clientId,
    [{ Put: { TableName: tableName(), Item: paymentAccountToItem(companyId, account), ConditionExpression: 'attribute_not_exists(PK)' } }],
    () => new ConcurrentChangeError('A payment account with this id already exists; nothing was written.'),
  );
}

/** Replaces an account if its version is still the one read; its auto-debit flag is `setAutoDebitAccount`'s to change. */
export async function replacePaymentAccount(companyId: string, previous: PaymentAccount, next: PaymentAccount): Promise<void> {
  if (next.autoDebit !== previous.autoDebit) throw new Error('The auto-debit flag is written by setAutoDebitAccount only.');
  let stale = false;
  try {
    await transactOnClient(
      companyId,
      next.clientId,
      [
        {
          Put: {
            TableName: tableName(),
            Item: paymentAccountToItem(companyId, next),
            ConditionExpression: 'version = :expected',
            ExpressionAttributeValues: { ':expected': previous.version },
          },
        },
      ],
      () => {
        stale = true;
        return new ConcurrentChangeError();
      },
    );
  } catch (error) {
    if (stale) throw staleOrGone('payment account', (await getPaymentAccount(companyId, next.clientId, next.id)) !== undefined);
    throw error;
  }
}

/**
 * Deletes an account. Deleting the auto-debit account clears the client's `autoDebitAccountId` in the same
 * transaction (through `setAutoDebitAccount`); deleting another one checks, in its transaction, that it has not
 * become the auto-debit account meanwhile (else `ConcurrentChangeError`: re-read the client and try again).
 */
export async function deletePaymentAccount(companyId: string, client: Pick<Client, 'id' | 'version' | 'autoDebitAccountId'>, accountId: string): Promise<void> {
  if (client.autoDebitAccountId === accountId) return setAutoDebitAccount(companyId, client, null, { deleting: accountId });
  const writable = clientWritableCondition();
  await transact(
    [
      { Delete: { TableName: tableName(), Key: accountKey(companyId, client.id, accountId), ConditionExpression: 'attribute_exists(PK)' } },
      {
        ConditionCheck: {
          TableName: tableName(),
          Key: { PK: clientPk(companyId, client.id), SK: clientSk },
          ConditionExpression: `${writable.expression} AND (attribute_not_exists(autoDebitAccountId) OR autoDebitAccountId <> :account)`,
          ExpressionAttributeValues: { ':account': accountId, ...writable.values },
        },
      },
    ],
    (index) =>
      index === 0
        ? new NotFoundError('No such payment account.')
        : new ConcurrentChangeError(
            'The payment account became the auto-debit account, or the client is being merged or deleted, at the same time; nothing was deleted.',
          ),
  );
}

/** What went wrong with one item of the auto-debit transaction, decided after the transaction was refused. */
type Refusal = () => Promise<Error>;

/**
 * The one writer of the auto-debit rule: makes `accountId` the client's auto-debit account (or, with `null`, leaves
 * it without one), writing the client's `autoDebitAccountId` and every account's `autoDebit` flag in ONE
 * transaction conditioned on the client's `version` as read. Every writer of either side goes through here and moves
 * the client's version, so a lost race fails that condition and nothing is written (`ConcurrentChangeError`): re-read
 * the client and decide again. A newly chosen account must be active (`account_disabled` otherwise).
 *
 * `deleting` deletes that account in the same transaction (it must not be the one chosen): an auto-debit account is
 * never deleted without the client letting go of it. Only what differs is written.
 */
export async function setAutoDebitAccount(
  companyId: string,
  client: Pick<Client, 'id' | 'version' | 'autoDebitAccountId'>,
  accountId: string | null,
  options: { deleting?: string } = {},
): Promise<void> {
  const { deleting } = options;
  if (deleting !== undefined && deleting === accountId) throw new Error('The account being deleted cannot become the auto-debit account.');
  const pk = clientPk(companyId, client.id);
  const now = nowIso();
  // The client item's condition doubles as the merge/delete guard (store/client-guard.ts): one action per item.
  const writable = clientWritableCondition();
  const accounts = (await queryAll(pk, PAYMENT_ACCOUNT_SK_PREFIX)).map(paymentAccountFromItem);
  const items: TransactItem[] = [];
  const refusals: Refusal[] = [];
  const add = (item: TransactItem, refusal: Refusal) => {
    items.push(item);
    refusals.push(refusal);
  };
  const concurrent = async () => new ConcurrentChangeError("The client's auto-debit account was changed at the same time; nothing was written. Retry.");
  const accountGone = async () => new NotFoundError('No such payment account.');
  let writes = 0;

  const clientChanges = (client.autoDebitAccountId ?? null) !== accountId;
  if (clientChanges) {
    writes++;
    add(
      {
        Update: {
          TableName: tableName(),
          Key: { PK: pk, SK: clientSk },
          UpdateExpression: 'SET autoDebitAccountId = :account, version = version + :one, updatedAt = :now',
          ConditionExpression: `version = :expected AND ${writable.expression}`,
          ExpressionAttributeValues: { ':account': accountId, ':one': 1, ':now': now, ':expected': client.version, ...writable.values },
        },
      },
      concurrent,
    );
  } else {
    add(
      {
        ConditionCheck: {
          TableName: tableName(),
          Key: { PK: pk, SK: clientSk },
          ConditionExpression: `version = :expected AND ${writable.expression}`,
          ExpressionAttributeValues: { ':expected': client.version, ...writable.values },
        },
      },
      concurrent,
    );
  }

  if (accountId !== null) {
    const chosen = accounts.find((a) => a.id === accountId);
    if (!chosen) throw new NotFoundError('No such payment account.');
    if (!chosen.autoDebit) {
      if (!isUsable(chosen)) throw disabled();
      writes++;
      add(
        {
          Update: {
            TableName: tableName(),
            Key: accountKey(companyId, client.id, accountId),
            UpdateExpression: 'SET autoDebit = :true, version = version + :one, updatedAt = :now',
            ConditionExpression: '#status = :active',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':true': true, ':one': 1, ':now': now, ':active': 'active' },
          },
        },
        async () => {
          const current = await getPaymentAccount(companyId, client.id, accountId);
          return !current ? new NotFoundError('No such payment account.') : !isUsable(current) ? disabled() : new ConcurrentChangeError();
        },
      );
    } else {
      add(
        { ConditionCheck: { TableName: tableName(), Key: accountKey(companyId, client.id, accountId), ConditionExpression: 'attribute_exists(PK)' } },
        accountGone,
      );
    }
  }

  for (const other of accounts) {
    if (!other.autoDebit || other.id === accountId || other.id === deleting) continue;
    writes++;
    add(
      {
        Update: {
          TableName: tableName(),
          Key: accountKey(companyId, client.id, other.id),
          UpdateExpression: 'SET autoDebit = :false, version = version + :one, updatedAt = :now',
          ConditionExpression: 'attribute_exists(PK)',
          ExpressionAttributeValues: { ':false': false, ':one': 1, ':now': now },
        },
      },
      concurrent,
    );
  }

  if (deleting !== undefined) {
    writes++;
    add({ Delete: { TableName: tableName(), Key: accountKey(companyId, client.id, deleting), ConditionExpression: 'attribute_exists(PK)' } }, accountGone);
  }

  if (writes === 0) return;
  let refused: Refusal | undefined;
  try {
    await transact(items, (index) => {
      refused = refusals[index];
      return new ConcurrentChangeError();
    });
  } catch (error) {
    if (refused) throw await refused();
    throw error;
  }
}

const disabled = () => new RuleViolationError('A disabled account cannot be the auto-debit account.', { code: 'account_disabled' });

/**
 * Counts an auto-debit attempt's outcome on the account charged: a decline adds one to `consecutiveDeclines`, an
 * approval resets it. Once per attempt (`lastCountedAttemptId`), so a page retried after the outcome was recorded
 * counts it now or not at all. Moves the version, so a concurrent replace of the account re-reads it instead of
 * writing back an old count. Returns the count after (undefined when the account is gone).
 */
export async function countAutoDebitOutcome(
  companyId: string,
  clientId: string,
  accountId: string,
  attemptId: string,
  declined: boolean,
): Promise<number | undefined> {
  try {
    const out = await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: accountKey(companyId, clientId, accountId),
        UpdateExpression: `SET consecutiveDeclines = ${declined ? 'if_not_exists(consecutiveDeclines, :zero) + :one' : ':zero'}, lastCountedAttemptId = :attempt, version = version + :one, updatedAt = :now`,
        ConditionExpression: 'attribute_exists(PK) AND (attribute_not_exists(lastCountedAttemptId) OR lastCountedAttemptId <> :attempt)',
        ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':attempt': attemptId, ':now': nowIso() },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return out.Attributes ? paymentAccountFromItem(out.Attributes).consecutiveDeclines : undefined;
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    return (await getPaymentAccount(companyId, clientId, accountId))?.consecutiveDeclines;
  }
}
