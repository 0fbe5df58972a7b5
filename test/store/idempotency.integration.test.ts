import { randomBytes } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { db } from '../../functions/store/dynamo.js';
import {
  claimIdempotencyRecord,
  completeIdempotencyRecord,
  IDEMPOTENCY_RETENTION_SECONDS,
  releaseIdempotencyRecord,
} from '../../functions/store/idempotency.js';
import { useFreshTables } from '../support/tables.js';

/** Idempotency records against DynamoDB Local, with the clock and the invocation's remaining time injected. */
beforeAll(async () => {
  await useFreshTables();
});
afterEach(() => {
  vi.restoreAllMocks();
});

const SCOPE = 'co_idem';
const T0 = Date.parse('2030-01-01T00:00:00Z');
const FINGERPRINT = 'a'.repeat(64);
const OTHER_FINGERPRINT = 'b'.repeat(64);
const newKey = () => `key-${randomBytes(6).toString('hex')}`;
const claim = (key: string, nowMs: number, fingerprint = FINGERPRINT, remainingTimeMs = 20_000) =>
  claimIdempotencyRecord(SCOPE, key, { fingerprint, nowMs, remainingTimeMs });

async function acquire(key: string, nowMs: number, remainingTimeMs = 20_000): Promise<string> {
  const outcome = await claim(key, nowMs, FINGERPRINT, remainingTimeMs);
  if (outcome.kind !== 'acquired') throw new Error(`expected to acquire ${key}, got ${outcome.kind}`);
  return outcome.claimId;
}

describe('claiming an idempotency key', () => {
  it('acquires a key never used in its scope', async () => {
    expect(await claim(newKey(), T0)).toEqual({ kind: 'acquired', claimId: expect.any(String) });
  });

  it('answers in_progress to the same request while the first holds the key', async () => {
    const key = newKey();
    await acquire(key, T0, 5_000);
    expect(await claim(key, T0 + 1)).toEqual({ kind: 'in_progress' });
    expect(await claim(key, T0 + 5_000)).toEqual({ kind: 'in_progress' });
  });

  it("lets the same request take the key over once the holder's invocation has timed out, and the old holder then neither completes nor releases it", async () => {
    const key = newKey();
    const first = await acquire(key, T0, 5_000);
    const second = await acquire(key, T0 + 5_001);
    expect(second).not.toBe(first);
    expect(await completeIdempotencyRecord(SCOPE, key, first, '{"status":201}')).toBe(false);
    expect(await releaseIdempotencyRecord(SCOPE, key, first)).toBe(false);
    expect(await claim(key, T0 + 5_002)).toEqual({ kind: 'in_progress' });
    expect(await completeIdempotencyRecord(SCOPE, key, second, '{"status":201,"body":"second"}')).toBe(true);
    expect(await claim(key, T0 + 5_003)).toEqual({ kind: 'completed', response: '{"status":201,"body":"second"}' });
  });

  it('the lock follows the remaining time it was given, not a fixed span', async () => {
    const key = newKey();
    await acquire(key, T0, 60_000);
    expect(await claim(key, T0 + 30_000)).toEqual({ kind: 'in_progress' });
    expect((await claim(key, T0 + 60_001)).kind).toBe('acquired');
  });

  it('returns the stored response to the same request once it completed, even after the lock time', async () => {
    const key = newKey();
    const claimId = await acquire(key, T0, 1_000);
    expect(await completeIdempotencyRecord(SCOPE, key, claimId, '{"status":201,"body":{"id":"grp_1"}}')).toBe(true);
    expect(await claim(key, T0 + 2_000)).toEqual({ kind: 'completed', response: '{"status":201,"body":{"id":"grp_1"}}' });
  });

  it('answers different_request to another fingerprint, whether the key is completed, in progress or held by a timed-out request', async () => {
    const completed = newKey();
    await completeIdempotencyRecord(SCOPE, completed, await acquire(completed, T0), '{"status":201}');
    expect(await claim(completed, T0 + 1, OTHER_FINGERPRINT)).toEqual({ kind: 'different_request' });
    const inFlight = newKey();
    await acquire(inFlight, T0, 5_000);
    expect(await claim(inFlight, T0 + 1, OTHER_FINGERPRINT)).toEqual({ kind: 'different_request' });
    expect(await claim(inFlight, T0 + 5_001, OTHER_FINGERPRINT)).toEqual({ kind: 'different_request' });
  });

  it('frees a released key, so the retry acts again', async () => {
    const key = newKey();
    expect(await releaseIdempotencyRecord(SCOPE, key, await acquire(key, T0))).toBe(true);
    expect((await claim(key, T0 + 1)).kind).toBe('acquired');
  });

  it('treats a record past its retention as absent, for any request', async () => {
    const key = newKey();
    await completeIdempotencyRecord(SCOPE, key, await acquire(key, T0), '{"status":201}');
    const afterRetention = T0 + (IDEMPOTENCY_RETENTION_SECONDS + 1) * 1000;
    expect((await claim(key, afterRetention, OTHER_FINGERPRINT)).kind).toBe('acquired');
  });

  it('keeps scopes apart: the same key in another scope is another record', async () => {
    const key = newKey();
    await acquire(key, T0);
    expect((await claimIdempotencyRecord(`${SCOPE}#CL#cl_1`, key, { fingerprint: OTHER_FINGERPRINT, nowMs: T0, remainingTimeMs: 20_000 })).kind).toBe(
      'acquired',
    );
  });

  it('sends exactly one DynamoDB request for a claim that collides with a completed, an in-progress or a different request', async () => {
    const completed = newKey();
    await completeIdempotencyRecord(SCOPE, completed, await acquire(completed, T0), '{"status":201}');
    const inFlight = newKey();
    await acquire(inFlight, T0);
    const send = vi.spyOn(db(), 'send');
    expect((await claim(completed, T0 + 1)).kind).toBe('completed');
    expect(send).toHaveBeenCalledTimes(1);
    send.mockClear();
    expect((await claim(inFlight, T0 + 1)).kind).toBe('in_progress');
    expect(send).toHaveBeenCalledTimes(1);
    send.mockClear();
    expect((await claim(inFlight, T0 + 1, OTHER_FINGERPRINT)).kind).toBe('different_request');
    expect(send).toHaveBeenCalledTimes(1);
  });
});
