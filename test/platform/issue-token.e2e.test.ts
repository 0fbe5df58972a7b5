import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestApi, type TestApi } from '../support/stack.js';
import { createClientWithLogin, expectProblem } from '../support/platform.js';

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api.stack.stop();
});
afterEach(() => {
  vi.restoreAllMocks();
});

/**
 * Stops the wall clock the throttle reads (it keeps real time, not the business clock) so "while shut" does not
 * depend on how fast the machine answers; `advance` lets time pass.
 */
function stopTheClock(): { advance: (ms: number) => void } {
  let now = Date.now();
  vi.spyOn(Date, 'now').mockImplementation(() => now);
  return {
    advance: (ms) => {
      now += ms;
    },
  };
}

const WRONG = 'not the password';

describe('repeated wrong passwords for one login', () => {
  it('shut the login: 429 with Retry-After, even for the right password, until that time has passed', async () => {
    const login = await createClientWithLogin(api, api.facts.companyId, api.facts.staffToken);
    const clock = stopTheClock();
    const attempt = (password: string) => api.call('POST', '/v1/auth/token', { body: { companyId: api.facts.companyId, username: login.username, password } });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await attempt(WRONG)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401]);

    const shut = await attempt(login.password);
    expectProblem(shut, 429);
    const wait = Number(shut.headers.get('retry-after'));
    expect(Number.isInteger(wait) && wait >= 1).toBe(true);
    // Another login of the same company is not shut with it.
    const staff = await api.call('POST', '/v1/auth/token', {
      body: { companyId: api.facts.companyId, username: api.facts.staffUsername, password: api.facts.staffPassword },
    });
    expect(staff.status).toBe(200);

    clock.advance(wait * 1000 - 1);
    expectProblem(await attempt(login.password), 429);
    clock.advance(1);
    expect((await attempt(login.password)).status).toBe(200);
    // The right password ended the count: one wrong one is a plain 401 again.
    expectProblem(await attempt(WRONG), 401);
  });

  it('shut it for longer after each further failure, never past a minute', async () => {
    const login = await createClientWithLogin(api, api.facts.companyId, api.facts.staffToken);
    const clock = stopTheClock();
    const attempt = (password: string) => api.call('POST', '/v1/auth/token', { body: { companyId: api.facts.companyId, username: login.username, password } });
    for (let i = 0; i < 5; i++) await attempt(WRONG);
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      const shut = await attempt(WRONG);
      expectProblem(shut, 429);
      const wait = Number(shut.headers.get('retry-after'));
      waits.push(wait);
      clock.advance(wait * 1000);
      // The one guess let through after the wait is wrong again.
      expectProblem(await attempt(WRONG), 401);
    }
    expect(waits).toEqual([2, 4, 8, 16, 32, 60, 60, 60]);
  });

  it('count for the login, whatever the case of its username, and not for a company’s other logins or the operator', async () => {
    const login = await createClientWithLogin(api, api.facts.companyId, api.facts.staffToken);
    stopTheClock();
    for (let i = 0; i < 5; i++) {
      await api.call('POST', '/v1/auth/token', { body: { companyId: api.facts.companyId, username: login.username.toUpperCase(), password: WRONG } });
    }
    expectProblem(
      await api.call('POST', '/v1/auth/token', { body: { companyId: api.facts.companyId, username: login.username, password: login.password } }),
      429,
    );
    const operator = await api.call('POST', '/v1/auth/token', { body: { username: api.facts.operatorUsername, password: api.facts.operatorPassword } });
    expect(operator.status).toBe(200);
  });
});
