import { randomBytes } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { faultReport, startFaults, stopFaults } from '../../functions/faults/faults.js';
import { claimIdempotencyRecord, completeIdempotencyRecord } from '../../functions/store/idempotency.js';
import { useFreshTables } from '../support/tables.js';

/**
 * A claim whose answer is lost: DynamoDB wrote the record, the connection broke before the answer came, and the SDK
 * sent the same Put again, which now fails its condition on the record it wrote itself. That is the claim succeeding,
 * not another request holding the key (found by the fault workload, test/faults/workload.e2e.test.ts: the retry was
 * answered 409 "still being processed" until the lock expired).
 */
beforeAll(async () => {
  await useFreshTables();
});
afterEach(() => {
  stopFaults();
});

const FINGERPRINT = 'a'.repeat(64);

describe('claiming an idempotency key whose answer is lost', () => {
  it('is acquired when the SDK retry meets the record the lost attempt wrote', async () => {
    startFaults({ rate: 1, seed: 1, kinds: ['lost'], targets: ['dynamodb'], operations: ['PutItemCommand'], limit: 1 });
    const key = `key-${randomBytes(6).toString('hex')}`;
    const outcome = await claimIdempotencyRecord('co_lost', key, { fingerprint: FINGERPRINT, nowMs: Date.now(), remainingTimeMs: 20_000 });
    expect(faultReport()?.injected.dynamodb.lost).toBe(1);
    expect(outcome).toEqual({ kind: 'acquired', claimId: expect.any(String) });
    // Another request with the same key still finds it held.
    stopFaults();
    expect(await claimIdempotencyRecord('co_lost', key, { fingerprint: FINGERPRINT, nowMs: Date.now(), remainingTimeMs: 20_000 })).toEqual({
      kind: 'in_progress',
    });
  });

  it('is completed when the SDK retry of the completion finds it completed with its response', async () => {
    const key = `key-${randomBytes(6).toString('hex')}`;
    const claimed = await claimIdempotencyRecord('co_lost', key, { fingerprint: FINGERPRINT, nowMs: Date.now(), remainingTimeMs: 20_000 });
    if (claimed.kind !== 'acquired') throw new Error('not acquired');
    startFaults({ rate: 1, seed: 2, kinds: ['lost'], targets: ['dynamodb'], operations: ['UpdateItemCommand'], limit: 1 });
    expect(await completeIdempotencyRecord('co_lost', key, claimed.claimId, '{"status":201}')).toBe(true);
    expect(faultReport()?.injected.dynamodb.lost).toBe(1);
    stopFaults();
    expect(await claimIdempotencyRecord('co_lost', key, { fingerprint: FINGERPRINT, nowMs: Date.now(), remainingTimeMs: 20_000 })).toEqual({
      kind: 'completed',
      response: '{"status":201}',
    });
  });
});
