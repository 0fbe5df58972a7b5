import { describe, expect, it } from 'vitest';
import { LocalGateway, SIMULATOR_TEST_NUMBERS } from '../../../functions/adapters/gateway/local.js';
import { GatewayTokenizeError } from '../../../functions/adapters/gateway/port.js';

const today = () => new Date('2026-03-15T12:00:00Z');
const card = (number: string) => ({ type: 'card' as const, card: { number, expMonth: 12, expYear: 2030, cvc: '123' } });
const ach = (accountNumber: string) => ({
  type: 'ach' as const,
  ach: { accountNumber, routingNumber: SIMULATOR_TEST_NUMBERS.routingNumber, accountType: 'checking' as const },
});
const charge = (token: string, idempotencyKey: string, amount = 1000) => ({ token, amount, currency: 'USD', idempotencyKey, description: 'Invoice 1001' });

describe('local simulated gateway', () => {
  it('tokenises without putting the number in the token', async () => {
    const gateway = new LocalGateway(today);
    const method = await gateway.tokenize(card('4242 4242 4242 4242'));
    expect(method).toMatchObject({ brand: 'visa', last4: '4242', expMonth: 12, expYear: 2030 });
    expect(method.token).toMatch(/^tok_sim_approve_[0-9a-f]{24}$/);
    expect(method.token).not.toContain('424242');
    const bank = await gateway.tokenize(ach(SIMULATOR_TEST_NUMBERS.achApproves));
    expect(bank).toMatchObject({ brand: 'ach', last4: '6789' });
    expect(bank.token).not.toContain('123456789');
  });

  it('approves, declines and fails transiently by test number', async () => {
    const gateway = new LocalGateway(today);
    const approve = await gateway.tokenize(card(SIMULATOR_TEST_NUMBERS.cardApproves));
    const decline = await gateway.tokenize(card(SIMULATOR_TEST_NUMBERS.cardDeclines));
    const fail = await gateway.tokenize(card(SIMULATOR_TEST_NUMBERS.cardFailsTransiently));
    const achOk = await gateway.tokenize(ach(SIMULATOR_TEST_NUMBERS.achApproves));
    const achNo = await gateway.tokenize(ach(SIMULATOR_TEST_NUMBERS.achDeclines));
    expect(await gateway.charge(charge(approve.token, 'k1'))).toMatchObject({ status: 'succeeded', gatewayReference: expect.stringMatching(/^ch_sim_/) });
    expect(await gateway.charge(charge(decline.token, 'k2'))).toMatchObject({ status: 'declined', declineCode: 'generic_decline' });
    const failed = await gateway.charge(charge(fail.token, 'k3'));
    expect(failed.status).toBe('failed');
    expect(failed.declineCode).toBeUndefined();
    expect(await gateway.charge(charge(achOk.token, 'k4'))).toMatchObject({ status: 'succeeded' });
    expect(await gateway.charge(charge(achNo.token, 'k5'))).toMatchObject({ status: 'declined' });
  });

  it('charges once per idempotency key and returns the first result again', async () => {
    const gateway = new LocalGateway(today);
    const { token } = await gateway.tokenize(card(SIMULATOR_TEST_NUMBERS.cardApproves));
    const first = await gateway.charge(charge(token, 'auto-debit:cl_1:USD:2026-03-15:1'));
    const again = await gateway.charge(charge(token, 'auto-debit:cl_1:USD:2026-03-15:1'));
    expect(again).toEqual(first);
    expect(gateway.succeededCharges()).toHaveLength(1);
    await expect(gateway.charge(charge(token, 'auto-debit:cl_1:USD:2026-03-15:1', 999))).rejects.toThrow(/different charge/);
  });

  it('behaves the same in another process: tokens and references need no shared memory', async () => {
    const issuer = new LocalGateway(today);
    const { token } = await issuer.tokenize(card(SIMULATOR_TEST_NUMBERS.cardDeclines));
    const elsewhere = new LocalGateway(today);
    expect((await elsewhere.charge(charge(token, 'x'))).status).toBe('declined');
    const { token: good } = await issuer.tokenize(card(SIMULATOR_TEST_NUMBERS.cardApproves));
    const a = await issuer.charge(charge(good, 'same-key'));
    const b = await elsewhere.charge(charge(good, 'same-key'));
    expect(a.gatewayReference).toBe(b.gatewayReference);
  });

  it('refuses invalid or expired details at tokenisation', async () => {
    const gateway = new LocalGateway(today);
    await expect(gateway.tokenize(card('4242424242424241'))).rejects.toBeInstanceOf(GatewayTokenizeError);
    await expect(gateway.tokenize({ type: 'card', card: { number: '4242424242424242', expMonth: 2, expYear: 2026 } })).rejects.toThrow(/expired/);
    await expect(
      gateway.tokenize({ type: 'ach', ach: { accountNumber: '000123456789', routingNumber: '110000001', accountType: 'checking' } }),
    ).rejects.toThrow(/routing/);
  });

  it('declines an unknown token', async () => {
    const gateway = new LocalGateway(today);
    expect(await gateway.charge(charge('tok_4242424242424242', 'k'))).toMatchObject({ status: 'declined', declineCode: 'invalid_token' });
  });

  it('refunds up to the charge, idempotently', async () => {
    const gateway = new LocalGateway(today);
    const { token } = await gateway.tokenize(card(SIMULATOR_TEST_NUMBERS.cardApproves));
    const { gatewayReference } = await gateway.charge(charge(token, 'c1', 1000));
    const first = await gateway.refund({ gatewayReference: gatewayReference!, amount: 600, idempotencyKey: 'r1' });
    expect(first).toMatchObject({ status: 'succeeded', gatewayReference: expect.stringMatching(/^re_sim_/) });
    expect(await gateway.refund({ gatewayReference: gatewayReference!, amount: 600, idempotencyKey: 'r1' })).toEqual(first);
    expect((await gateway.refund({ gatewayReference: gatewayReference!, amount: 600, idempotencyKey: 'r2' })).status).toBe('failed');
    expect((await gateway.refund({ gatewayReference: gatewayReference!, amount: 400, idempotencyKey: 'r3' })).status).toBe('succeeded');
    expect((await gateway.refund({ gatewayReference: 'pi_other', amount: 1, idempotencyKey: 'r4' })).status).toBe('failed');
  });
});
