import { DeleteCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { LedgerApplication } from '../domain/ledger.js';
import { db, queryPage, tableName, type Item, type Page, type TransactItem } from './dynamo.js';
import { clientPk, PENDING_CHARGES_INDEX_PK, pendingChargeIndexSk, pendingChargeSk } from './keys.js';
import type { StoredItem } from './mapping.js';

/**
 * What a charge request asked for, kept from the moment its attempt is recorded until its outcome is: enough to
 * replay the gateway call with the same key and apply the money as asked. It lives in the client partition (a merge
 * moves it with the attempt; a client delete removes it) and is deleted when the attempt is settled.
 */
export interface PendingCharge {
  companyId: string;
  transactionId: string;
  clientId: string;
  /** Invoices to pay, in order, as the request asked; the rest of the amount becomes credit. */
  apply: LedgerApplication[];
  otherAmount: number;
  sendReceipt: boolean;
  /** The gateway compares a replayed request with the first, description included. */
  description: string;
  /** New card or bank details: their gateway token, envelope-encrypted (never a number). Null for a stored account. */
  sealedToken: string | null;
  createdAt: string;
}

export function pendingChargeToItem(charge: PendingCharge): Item {
  return {
    PK: clientPk(charge.companyId, charge.clientId),
    SK: pendingChargeSk(charge.transactionId),
    entity: 'pendingCharge',
    GSI2PK: PENDING_CHARGES_INDEX_PK,
    GSI2SK: pendingChargeIndexSk(charge.createdAt, charge.companyId, charge.transactionId),
    ...charge,
  };
}

export function pendingChargeFromItem(item: StoredItem): PendingCharge {
  return {
    companyId: item.companyId,
    transactionId: item.transactionId,
    clientId: item.clientId,
    apply: item.apply,
    otherAmount: item.otherAmount,
    sendReceipt: item.sendReceipt,
    description: item.description,
    sealedToken: item.sealedToken,
    createdAt: item.createdAt,
  };
}

/** The put that records a pending charge, for the transaction that records its attempt. */
export function putPendingCharge(charge: PendingCharge): TransactItem {
  return { Put: { TableName: tableName(), Item: pendingChargeToItem(charge) } };
}

const pendingChargeKey = (companyId: string, clientId: string, transactionId: string) => ({
  PK: clientPk(companyId, clientId),
  SK: pendingChargeSk(transactionId),
});

/** The delete that removes a pending charge, for the transaction that records its attempt's outcome. */
export function deletePendingChargeItem(companyId: string, clientId: string, transactionId: string): TransactItem {
  return { Delete: { TableName: tableName(), Key: pendingChargeKey(companyId, clientId, transactionId) } };
}

export async function getPendingCharge(companyId: string, clientId: string, transactionId: string): Promise<PendingCharge | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: pendingChargeKey(companyId, clientId, transactionId), ConsistentRead: true }));
  return out.Item ? pendingChargeFromItem(out.Item) : undefined;
}

/** Removes a pending charge whose attempt is settled (a repeated delete is harmless). */
export async function deletePendingCharge(companyId: string, clientId: string, transactionId: string): Promise<void> {
  await db().send(new DeleteCommand({ TableName: tableName(), Key: pendingChargeKey(companyId, clientId, transactionId) }));
}

/** A stale pending charge as the index lists it: its company and attempt (the client may have changed by a merge). */
export interface PendingChargeRef {
  companyId: string;
  transactionId: string;
  createdAt: string;
}

/** One page of the pending charges of every company created before `before` (ISO), oldest first. */
export async function listPendingChargesBefore(before: string, limit: number, startKey?: Record<string, unknown>): Promise<Page<PendingChargeRef>> {
  const page = await queryPage<StoredItem>({
    IndexName: 'GSI2',
    KeyConditionExpression: 'GSI2PK = :pk AND GSI2SK < :before',
    ExpressionAttributeValues: { ':pk': PENDING_CHARGES_INDEX_PK, ':before': before },
    Limit: limit,
    ExclusiveStartKey: startKey,
  });
  return { items: page.items.map((i) => ({ companyId: i.companyId, transactionId: i.transactionId, createdAt: i.createdAt })), lastKey: page.lastKey };
}
