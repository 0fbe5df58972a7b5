import { beforeAll, describe, expect, it } from 'vitest';
import { LOGIN_THROTTLE } from '../../functions/domain/login-throttle.js';
import { clearFailures, loginSubject, readThrottles, recordFailure, sourceSubject } from '../../functions/store/login-throttle.js';
import { useFreshTables } from '../support/tables.js';

beforeAll(async () => {
  await useFreshTables();
});

const T0 = Date.parse('2026-12-06T10:00:00Z');

describe('failed-login counts', () => {
  it('count every one of racing failures, and shut the login after the free ones', async () => {
    const login = loginSubject('co_race', 'Racer');
    const results = await Promise.all(Array.from({ length: 12 }, () => recordFailure(login, T0)));
    expect(results.map((r) => r.failures).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    const state = (await readThrottles([login], T0)).get(login.PK);
    expect(state?.failures).toBe(12);
    // The longest lock any of them set wins.
    expect(state?.lockedUntil).toBe(T0 + 60_000);
  });

  it('are forgotten after a quiet window: the next failure is the first of a new count', async () => {
    const login = loginSubject('co_quiet', 'quiet');
    for (let i = 0; i < 4; i++) await recordFailure(login, T0);
    const later = T0 + LOGIN_THROTTLE.forgetAfterSeconds * 1000 + 1;
    expect(await readThrottles([login], later)).toEqual(new Map());
    expect((await recordFailure(login, later)).failures).toBe(1);
  });

  it('end for a login when its right password is given', async () => {
    const login = loginSubject(undefined, 'operator-x');
    await recordFailure(login, T0);
    await clearFailures(login);
    expect(await readThrottles([login], T0)).toEqual(new Map());
  });

  it('shut a source address only after many failures across logins', async () => {
    const source = sourceSubject('203.0.113.7');
    const free = LOGIN_THROTTLE.source.freeFailures;
    for (let i = 0; i < free - 1; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, free - 1 - i) }, () => recordFailure(source, T0)));
    }
    expect((await readThrottles([source], T0)).get(source.PK)).toMatchObject({ failures: free - 1, lockedUntil: 0 });
    expect(await recordFailure(source, T0)).toMatchObject({ failures: free, lockedUntil: T0 + LOGIN_THROTTLE.source.firstLockSeconds * 1000 });
  });
});
