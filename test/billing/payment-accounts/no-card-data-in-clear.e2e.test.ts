import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { ApiResponse, CallOptions, TestApi } from '../../support/stack.js';

/**
 * API.md, Payment accounts: "Responses and logs never hold a full number or a CVC". After a run that stores cards
 * and ACH accounts and pays with new cards (with CVCs), nothing in the app table, the process's log output or any
 * API response holds a full card number, a CVC or a full bank account number in clear.
 */

// Before any module creates the logger: the most talkative level, so everything that could be logged is.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
});

const VISA = '4242424242424242';
const MASTERCARD = '5555555555554444';
const AMEX = '378282246310005';
const DECLINES = '4000000000000002';
const FAILS = '4000000000000119';
const ACH_OK = '000123456789';
const ACH_DECLINES = '000111111116';
const BAD_LUHN = '4242424242424241';
const CARD_NUMBERS = [VISA, MASTERCARD, AMEX, DECLINES, FAILS, BAD_LUHN];
const ACCOUNT_NUMBERS = [ACH_OK, ACH_DECLINES];
/** Unusual CVCs, each given once, so finding one anywhere means it leaked. */
const CVCS = ['871', '9183', '652', '407'];
const EXP = { expMonth: 11, expYear: new Date().getUTCFullYear() + 4 };

let api: TestApi;
let stopAll: () => Promise<void>;
const logs: string[] = [];
const bodies: string[] = [];
const restorers: Array<() => void> = [];

function capture(): void {
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream);
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      logs.push(typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk));
      // Kept, not printed: the run logs every request.
      const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    }) as typeof stream.write;
    restorers.push(() => {
      stream.write = original as typeof stream.write;
    });
  }
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    const spy = vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      logs.push(args.map((a) => (typeof a === 'string' ? a : safeJson(a))).join(' '));
    });
    restorers.push(() => spy.mockRestore());
  }
}

function safeJson(value: unknown): string {
  try {
    return value instanceof Error ? `${value.name}: ${value.message}\n${value.stack}` : JSON.stringify(value);
  } catch {
    return String(value);
  }
}

beforeAll(async () => {
  capture();
  // Loaded after the log level is set and the output is captured.
  const { startLocalSes } = await import('../../../functions/adapters/mailer/local.js');
  const { startTestApi } = await import('../../support/stack.js');
  const ses = await startLocalSes();
  process.env.BILLOW_LOCAL_SES_ENDPOINT = ses.endpoint;
  const started = await startTestApi();
  // Every response body of the run, including errors.
  const call = started.call.bind(started);
  const recorded = async <T>(method: string, path: string, options?: CallOptions): Promise<ApiResponse<T>> => {
    const res = await call<T>(method, path, options);
    bodies.push(`${method} ${path} → ${res.status}\n${res.text}`);
    return res;
  };
  api = { ...started, call: recorded, staff: (method, path, body, headers) => recorded(method, path, { token: started.facts.staffToken, body, headers }) };
  stopAll = async () => {
    await started.stack.stop();
    await ses.stop();
  };
});
afterAll(async () => {
  for (const restore of restorers.reverse()) restore();
  await stopAll?.();
});

function expectStatus(res: ApiResponse, status: number): void {
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${res.text}`);
}

/** Every string in a value: nested maps and lists, JSON inside strings, and base64 text decoded. */
function strings(value: unknown, out: string[] = [], depth = 0): string[] {
  if (depth > 20 || value === null || value === undefined) return out;
  if (typeof value === 'string') {
    out.push(value);
    const trimmed = value.trim();
    if ((trimmed.startsWith('{') || trimmed.startsWith('[') || trimmed.startsWith('"')) && trimmed.length > 1) {
      try {
        strings(JSON.parse(trimmed), out, depth + 1);
      } catch {
        /* not JSON */
      }
    }
    if (/^[A-Za-z0-9+/_-]{16,}={0,2}$/.test(trimmed)) {
      const decoded = Buffer.from(trimmed, /[-_]/.test(trimmed) ? 'base64url' : 'base64').toString('latin1');
      out.push(decoded);
    }
    return out;
  }
  if (typeof value === 'number' || typeof value === 'bigint') {
    out.push(String(value));
    return out;
  }
  if (value instanceof Uint8Array) {
    out.push(Buffer.from(value).toString('latin1'));
    return out;
  }
  if (value instanceof Set) value = [...value];
  if (Array.isArray(value)) {
    for (const v of value) strings(v, out, depth + 1);
    return out;
  }
  if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out.push(k);
      strings(v, out, depth + 1);
    }
  }
  return out;
}

/** What leaked in a text: a full number (also with separators stripped), or a CVC standing on its own. */
function leaks(text: string): string[] {
  const found: string[] = [];
  const digitsOnly = text.replace(/[\s-]/g, '');
  for (const n of [...CARD_NUMBERS, ...ACCOUNT_NUMBERS]) if (text.includes(n) || digitsOnly.includes(n)) found.push(n);
  for (const cvc of CVCS) if (new RegExp(`(?<![0-9A-Za-z])${cvc}(?![0-9A-Za-z])`).test(text)) found.push(`cvc ${cvc}`);
  if (/"(cvc|cvv|cvv2|securityCode)"\s*:/i.test(text)) found.push('a cvc field');
  return found;
}

async function scanTable(): Promise<Record<string, unknown>[]> {
  const { db } = await import('../../../functions/store/dynamo.js');
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const out = await db().send(new ScanCommand({ TableName: process.env.BILLOW_TABLE, ExclusiveStartKey: startKey, ConsistentRead: true }));
    items.push(...((out.Items ?? []) as Record<string, unknown>[]));
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return items;
}

describe('no card number, CVC or bank account number in clear', () => {
  it('the detector finds what it looks for', () => {
    expect(leaks(`{"n":"${VISA}"}`)).toEqual([VISA]);
    expect(leaks('4242 4242 4242 4242')).toEqual([VISA]);
    expect(leaks(`acct ${ACH_OK}`)).toEqual([ACH_OK]);
    expect(leaks(`{"cvc":"${CVCS[1]}"}`)).toEqual([`cvc ${CVCS[1]}`, 'a cvc field']);
    expect(leaks(`2026-01-01T00:00:00.${CVCS[0]}Z txn_01ABC${CVCS[1]}XYZ`)).toEqual([]);
    const encoded = Buffer.from(`{"token":"x","number":"${AMEX}"}`).toString('base64');
    expect(strings({ secret: encoded }).flatMap(leaks)).toEqual([AMEX]);
    expect(strings({ nested: JSON.stringify({ deeper: JSON.stringify({ n: MASTERCARD }) }) }).flatMap(leaks)).toContain(MASTERCARD);
  });

  it('after a run of accounts and payments: not in the table, the logs or any response', async () => {
    const client = await api.staff('POST', '/v1/clients', {
      firstName: 'Sec',
      lastName: 'Ret',
      email: 'secret.client@example.com',
      username: 'secretclient',
      password: 'client password 1',
    });
    expectStatus(client, 201);
    const id = client.body.id;
    const token = (
      await api.call('POST', '/v1/auth/token', { body: { companyId: api.facts.companyId, username: 'secretclient', password: 'client password 1' } })
    ).body.token;
    const inv = await api.staff('POST', `/v1/clients/${id}/invoices`, { lines: [{ description: 'Work', quantity: 1, unitAmount: 50000 }] });
    expectStatus(inv, 201);
    const invoiceId = inv.body.id;

    // Accounts: cards (one with a CVC, one typed with spaces), ACH, and rejected ones.
    const visa = await api.staff('POST', `/v1/clients/${id}/payment-accounts`, { type: 'card', card: { number: '4242 4242 4242 4242', ...EXP, cvc: CVCS[0] } });
    expectStatus(visa, 201);
    const achOk = await api.call('POST', `/v1/clients/${id}/payment-accounts`, {
      token,
      body: { type: 'ach', ach: { accountNumber: ACH_OK, routingNumber: '110000000', accountType: 'savings' } },
    });
    expectStatus(achOk, 201);
    const achBad = await api.staff('POST', `/v1/clients/${id}/payment-accounts`, {
      type: 'ach',
      ach: { accountNumber: ACH_DECLINES, routingNumber: '110000000', accountType: 'checking' },
      autoDebit: true,
    });
    expectStatus(achBad, 201);
    const declining = await api.staff('POST', `/v1/clients/${id}/payment-accounts`, { type: 'card', card: { number: DECLINES, ...EXP } });
    expectStatus(declining, 201);
    expectStatus(await api.staff('POST', `/v1/clients/${id}/payment-accounts`, { type: 'card', card: { number: BAD_LUHN, ...EXP, cvc: '123' } }), 400);
    expectStatus(await api.staff('POST', `/v1/clients/${id}/payment-accounts`, { type: 'card', card: { number: VISA, expMonth: 1, expYear: 2021 } }), 400);
    expectStatus(
      await api.staff('POST', `/v1/clients/${id}/payment-accounts`, {
        type: 'ach',
        ach: { accountNumber: ACH_OK, routingNumber: '123456789', accountType: 'checking' },
      }),
      400,
    );
    expectStatus(await api.staff('POST', `/v1/clients/${id}/payment-accounts`, { type: 'card', card: { number: VISA, ...EXP, cvc: '12345' } }), 400);

    // Payments: new cards with CVCs (saved and not), a stored card, ACH, declines, a transient failure.
    const paid = [
      await api.staff(
        'POST',
        `/v1/clients/${id}/payments`,
        { source: { newCard: { number: AMEX, ...EXP, cvc: CVCS[1] }, save: true }, currency: 'USD', apply: [{ invoiceId, amount: 1000 }] },
        { 'idempotency-key': 'secret-1' },
      ),
      await api.call('POST', `/v1/clients/${id}/payments`, {
        token,
        body: { source: { newCard: { number: MASTERCARD, ...EXP, cvc: CVCS[2] } }, currency: 'USD', apply: [{ invoiceId, amount: 1000 }], otherAmount: 250 },
      }),
      await api.staff('POST', `/v1/clients/${id}/payments`, {
        source: { paymentAccountId: visa.body.id },
        currency: 'USD',
        apply: [{ invoiceId, amount: 1000 }],
      }),
      await api.staff('POST', `/v1/clients/${id}/payments`, {
        source: { paymentAccountId: achOk.body.id },
        currency: 'USD',
        apply: [{ invoiceId, amount: 1000 }],
      }),
      await api.staff('POST', `/v1/clients/${id}/payments`, {
        source: { newAch: { accountNumber: ACH_OK, routingNumber: '110000000', accountType: 'checking' }, save: true },
        currency: 'USD',
        otherAmount: 100,
      }),
    ];
    for (const res of paid) expectStatus(res, 201);
    expectStatus(
      await api.staff(
        'POST',
        `/v1/clients/${id}/payments`,
        { source: { newCard: { number: DECLINES, ...EXP, cvc: CVCS[3] } }, currency: 'USD', apply: [{ invoiceId, amount: 1000 }] },
        { 'idempotency-key': 'secret-2' },
      ),
      402,
    );
    expectStatus(
      await api.staff('POST', `/v1/clients/${id}/payments`, { source: { paymentAccountId: achBad.body.id }, currency: 'USD', otherAmount: 100 }),
      402,
    );
    expectStatus(
      await api.staff('POST', `/v1/clients/${id}/payments`, { source: { paymentAccountId: declining.body.id }, currency: 'USD', otherAmount: 100 }),
      402,
    );
    expectStatus(
      await api.staff('POST', `/v1/clients/${id}/payments`, { source: { newCard: { number: FAILS, ...EXP } }, currency: 'USD', otherAmount: 100 }),
      502,
    );
    expectStatus(
      await api.staff('POST', `/v1/clients/${id}/payments`, {
        source: { newCard: { number: BAD_LUHN, ...EXP, cvc: '999' } },
        currency: 'USD',
        otherAmount: 100,
      }),
      400,
    );
    expectStatus(
      await api.staff('POST', `/v1/clients/${id}/payments`, { source: { newCard: { number: VISA, ...EXP }, extra: VISA }, currency: 'USD', otherAmount: 100 }),
      400,
    );
    // Replays, refunds, reads, the mail log and documents.
    expectStatus(
      await api.staff(
        'POST',
        `/v1/clients/${id}/payments`,
        { source: { newCard: { number: AMEX, ...EXP, cvc: CVCS[1] }, save: true }, currency: 'USD', apply: [{ invoiceId, amount: 1000 }] },
        { 'idempotency-key': 'secret-1' },
      ),
      201,
    );
    expectStatus(await api.staff('POST', `/v1/transactions/${paid[0].body.id}/refund`, { amount: 500 }), 200);
    for (const path of [
      `/v1/clients/${id}/payment-accounts`,
      `/v1/clients/${id}/transactions`,
      `/v1/clients/${id}`,
      `/v1/clients/${id}/emails`,
      `/v1/clients/${id}/activity`,
      `/v1/clients/${id}/statement`,
    ]) {
      expectStatus(await api.staff('GET', path), 200);
    }
    for (const pa of [visa, achOk, achBad]) {
      expectStatus(await api.staff('GET', `/v1/clients/${id}/payment-accounts/${pa.body.id}`), 200);
      expectStatus(await api.staff('PATCH', `/v1/clients/${id}/payment-accounts/${pa.body.id}`, { contact: { firstName: 'New', lastName: 'Contact' } }), 200);
    }
    const mails = await api.staff('GET', `/v1/clients/${id}/emails`);
    for (const m of mails.body.data) expectStatus(await api.staff('GET', `/v1/emails/${m.id}`), 200);
    expect(mails.body.data.length).toBeGreaterThan(0);

    // The table.
    const items = await scanTable();
    expect(items.some((i) => String(i.SK).startsWith('PA#'))).toBe(true);
    expect(items.some((i) => i.entity === 'transaction')).toBe(true);
    const tableLeaks = items.flatMap((item) => {
      const found = [...new Set(strings(item).flatMap(leaks))];
      return found.length ? [`${String(item.PK)} ${String(item.SK)}: ${found.join(', ')}`] : [];
    });
    expect(tableLeaks).toEqual([]);
    // Payment accounts keep only what they show, plus an encrypted secret.
    for (const pa of items.filter((i) => String(i.SK).startsWith('PA#'))) {
      expect(Object.keys(pa)).not.toEqual(expect.arrayContaining(['number']));
      expect(typeof pa.secret).toBe('string');
      expect(String(pa.last4)).toMatch(/^\d{4}$/);
    }

    // The responses.
    expect(bodies.length).toBeGreaterThan(30);
    expect(bodies.flatMap((b) => leaks(b).map((l) => `${b.split('\n')[0]}: ${l}`))).toEqual([]);

    // The logs: the run logged (at DEBUG), and none of it holds a secret.
    const logText = logs.join('\n');
    expect(logText).toContain('"request"');
    expect(logs.flatMap((l) => leaks(l).map((x) => `${x} in ${l.slice(0, 200)}`))).toEqual([]);
  });
});
