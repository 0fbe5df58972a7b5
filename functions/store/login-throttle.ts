import { createHash } from 'node:crypto';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { LOGIN_THROTTLE, lockSecondsAfter, type ThrottleScope } from '../domain/login-throttle.js';
import { batchGetAll, db, tableName } from './dynamo.js';
import { isConditionFailure } from './items.js';
import { loginThrottlePk, loginThrottleSk, sourceThrottlePk } from './keys.js';
import type { EveryField, StoredItem } from './mapping.js';

/** Who a failure counts against: one login of a company (or an operator login), or one source address. */
export interface ThrottleSubject {
  scope: ThrottleScope;
  PK: string;
}

const hash = (value: string) => createHash('sha256').update(value).digest('hex').slice(0, 40);

/** Usernames are unique per company without regard to case, so `Ann` and `ann` are one login. */
export function loginSubject(companyId: string | undefined, username: string): ThrottleSubject {
  return { scope: 'login', PK: loginThrottlePk(companyId ?? 'OPERATOR', hash(username.trim().toLowerCase())) };
}

export function sourceSubject(address: string): ThrottleSubject {
  return { scope: 'source', PK: sourceThrottlePk(hash(address)) };
}

export interface ThrottleState {
  failures: number;
  /** Epoch ms; a login is shut while now is before it. */
  lockedUntil: number;
  lastFailureAt: number;
}

function stateFromItem(item: StoredItem): ThrottleState {
  const state: EveryField<ThrottleState> = { failures: item.failures, lockedUntil: item.lockedUntil ?? 0, lastFailureAt: item.lastFailureAt };
  return state;
}

/** The subjects' states (one BatchGet), by PK; a subject never failed, or forgotten, is absent. */
export async function readThrottles(subjects: readonly ThrottleSubject[], nowMs: number): Promise<Map<string, ThrottleState>> {
  const items = await batchGetAll(
    subjects.map(({ PK }) => ({ PK, SK: loginThrottleSk })),
    { consistent: true },
  );
  const states = new Map<string, ThrottleState>();
  for (const item of items) {
    const state = stateFromItem(item);
    if (state.lastFailureAt >= nowMs - LOGIN_THROTTLE.forgetAfterSeconds * 1000) states.set(String(item.PK), state);
  }
  return states;
}

/**
 * Counts one more failure against the subject and shuts it for as long as the policy says after that many. The
 * count is an atomic ADD, so failures racing each other are all counted; a count gone quiet for the forget window
 * starts again at one.
 */
export async function recordFailure(subject: ThrottleSubject, nowMs: number): Promise<ThrottleState> {
  const forgetBefore = nowMs - LOGIN_THROTTLE.forgetAfterSeconds * 1000;
  const expiresAt = Math.ceil(nowMs / 1000) + LOGIN_THROTTLE.forgetAfterSeconds + LOGIN_THROTTLE[subject.scope].maxLockSeconds;
  let failures: number;
  try {
    const out = await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: { PK: subject.PK, SK: loginThrottleSk },
        UpdateExpression: 'ADD failures :one SET lastFailureAt = :now, expiresAt = :exp, entity = :entity',
        ConditionExpression: 'attribute_not_exists(PK) OR lastFailureAt >= :forgetBefore',
        ExpressionAttributeValues: { ':one': 1, ':now': nowMs, ':exp': expiresAt, ':forgetBefore': forgetBefore, ':entity': 'loginThrottle' },
        ReturnValues: 'ALL_NEW',
      }),
    );
    failures = Number(out.Attributes?.failures ?? 1);
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    // Quiet for longer than the window: this failure is the first of a new count.
    await db().send(
      new PutCommand({
        TableName: tableName(),
        Item: { PK: subject.PK, SK: loginThrottleSk, entity: 'loginThrottle', failures: 1, lastFailureAt: nowMs, lockedUntil: 0, expiresAt },
      }),
    );
    failures = 1;
  }
  const lockSeconds = lockSecondsAfter(subject.scope, failures);
  const lockedUntil = lockSeconds > 0 ? nowMs + lockSeconds * 1000 : 0;
  if (lockedUntil > 0) {
    await db()
      .send(
        new UpdateCommand({
          TableName: tableName(),
          Key: { PK: subject.PK, SK: loginThrottleSk },
          UpdateExpression: 'SET lockedUntil = :until',
          // A racing failure may already have shut it for longer.
          ConditionExpression: 'attribute_not_exists(lockedUntil) OR lockedUntil < :until',
          ExpressionAttributeValues: { ':until': lockedUntil },
        }),
      )
      .catch((error: unknown) => {
        if (!isConditionFailure(error)) throw error;
      });
  }
  return { failures, lockedUntil, lastFailureAt: nowMs };
}

/** A right password ends the login's count (the source's count is left to time: it spans logins). */
export async function clearFailures(subject: ThrottleSubject): Promise<void> {
  await db().send(new DeleteCommand({ TableName: tableName(), Key: { PK: subject.PK, SK: loginThrottleSk } }));
}
