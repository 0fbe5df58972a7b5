import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalGateway } from '../../functions/adapters/gateway/local.js';
import { GatewayOutcomeUnknownError } from '../../functions/adapters/gateway/port.js';
import { MailSendError, type Mailer } from '../../functions/adapters/mailer/port.js';
import { drawFault, faultReport, faultSettingsFromEnv, seededRandom, startFaults, stopFaults } from '../../functions/faults/faults.js';
import { gatewayWithFaults, mailerWithFaults } from '../../functions/faults/ports.js';
import { injectFaultsInto } from '../../functions/faults/sdk.js';

/** The fault layer itself: off by default, seeded, counted, and where each kind is met. */
afterEach(() => {
  stopFaults();
});

const draws = (n: number) => Array.from({ length: n }, () => drawFault('dynamodb', 'GetItemCommand', 'attempt') ?? '-');

describe('the fault layer', () => {
  it('injects nothing while off', () => {
    stopFaults();
    expect(draws(1000).every((d) => d === '-')).toBe(true);
    expect(faultReport()).toBeUndefined();
  });

  it('replays the same decisions from the same seed, and others from another', () => {
    startFaults({ rate: 0.3, seed: 42 });
    const first = draws(200);
    startFaults({ rate: 0.3, seed: 42 });
    expect(draws(200)).toEqual(first);
    startFaults({ rate: 0.3, seed: 43 });
    expect(draws(200)).not.toEqual(first);
  });

  it('fails about the rate asked for, of every kind, and counts them', () => {
    startFaults({ rate: 0.1, seed: 7 });
    const failed = draws(10_000).filter((d) => d !== '-').length;
    expect(failed).toBeGreaterThan(850);
    expect(failed).toBeLessThan(1150);
    const report = faultReport();
    expect(report?.calls.dynamodb).toBe(10_000);
    expect(report?.total).toBe(failed);
    for (const kind of ['throttle', 'server', 'timeout', 'lost'] as const) expect(report?.byKind[kind]).toBeGreaterThan(150);
  });

  it('keeps to the targets, operations and limit it is given', () => {
    startFaults({ rate: 1, seed: 1, targets: ['s3'], operations: ['PutObjectCommand'], limit: 2 });
    expect(drawFault('dynamodb', 'PutObjectCommand', 'attempt')).toBeUndefined();
    expect(drawFault('s3', 'GetObjectCommand', 'attempt')).toBeUndefined();
    expect([1, 2, 3].map(() => drawFault('s3', 'PutObjectCommand', 'attempt') !== undefined)).toEqual([true, true, false]);
  });

  it('reads BILLOW_FAULT_RATE and BILLOW_FAULT_SEED, and refuses nonsense', () => {
    expect(faultSettingsFromEnv({})).toBeUndefined();
    expect(faultSettingsFromEnv({ BILLOW_FAULT_RATE: '0' })).toBeUndefined();
    expect(faultSettingsFromEnv({ BILLOW_FAULT_RATE: '0.1', BILLOW_FAULT_SEED: '9' })).toEqual({ rate: 0.1, seed: 9 });
    expect(faultSettingsFromEnv({ BILLOW_FAULT_RATE: '0.1', BILLOW_FAULT_SEED: '9', BILLOW_FAULT_CALL_SHARE: '0.05' })).toEqual({
      rate: 0.1,
      seed: 9,
      callShare: 0.05,
    });
    expect(() => faultSettingsFromEnv({ BILLOW_FAULT_RATE: '0.1', BILLOW_FAULT_CALL_SHARE: '-1' })).toThrow(/BILLOW_FAULT_CALL_SHARE/);
    expect(() => faultSettingsFromEnv({ BILLOW_FAULT_RATE: '2' })).toThrow(/BILLOW_FAULT_RATE/);
    expect(() => faultSettingsFromEnv({ BILLOW_FAULT_RATE: '0.1', BILLOW_FAULT_SEED: 'x' })).toThrow(/BILLOW_FAULT_SEED/);
  });

  it('draws numbers in [0, 1) from a seed', () => {
    const random = seededRandom(5);
    const values = Array.from({ length: 1000 }, random);
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(new Set(values).size).toBe(1000);
  });
});

/** An SDK client whose "network" answers every request and counts it, so a test sees what was really sent. */
function countingClient(): { client: DynamoDBClient; sent: () => number } {
  let sent = 0;
  const client = new DynamoDBClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    endpoint: 'http://127.0.0.1:1',
    requestHandler: {
      handle: async () => {
        sent++;
        return { response: { statusCode: 200, headers: { 'content-type': 'application/x-amz-json-1.0' }, body: Buffer.from('{}') } as never };
      },
    },
  });
  return { client: injectFaultsInto(client, 'dynamodb'), sent: () => sent };
}

describe('faults in an SDK client', () => {
  it('meets a lost answer after the request was sent, and the SDK sends it again', async () => {
    const { client, sent } = countingClient();
    startFaults({ rate: 1, seed: 2, kinds: ['lost'], targets: ['dynamodb'], limit: 1 });
    await client.send(new GetItemCommand({ TableName: 't', Key: { PK: { S: 'a' } } }));
    expect(sent()).toBe(2);
  });

  it('fails a whole call past the SDK retries when the call layer draws it, sending nothing', async () => {
    const { client, sent } = countingClient();
    startFaults({ rate: 1, seed: 3, kinds: ['server'], targets: ['dynamodb'], callShare: 1 });
    await expect(client.send(new GetItemCommand({ TableName: 't', Key: { PK: { S: 'a' } } }))).rejects.toMatchObject({ name: 'InternalServerError' });
    expect(sent()).toBe(0);
    expect(faultReport()?.wholeCalls).toBe(1);
  });
});

describe('faults in the ports', () => {
  it('charges and then loses the answer of a lost charge, so the caller leaves it pending', async () => {
    const gateway = new LocalGateway();
    const faulty = gatewayWithFaults(gateway);
    const { token } = await faulty.tokenize({ type: 'card', card: { number: '4242424242424242', expMonth: 12, expYear: new Date().getUTCFullYear() + 2 } });
    startFaults({ rate: 1, seed: 4, kinds: ['lost'], targets: ['gateway'] });
    await expect(faulty.charge({ token, amount: 500, currency: 'USD', idempotencyKey: 'k1', description: 'x' })).rejects.toBeInstanceOf(
      GatewayOutcomeUnknownError,
    );
    expect(gateway.succeededCharges()).toEqual([expect.objectContaining({ idempotencyKey: 'k1', amount: 500 })]);
    // The simulator's own helpers are reached through the wrapper.
    expect((faulty as LocalGateway).chargeRequestsFor('k1')).toBe(1);
  });

  it('answers a refused charge as failed without charging', async () => {
    const gateway = new LocalGateway();
    const faulty = gatewayWithFaults(gateway);
    startFaults({ rate: 1, seed: 5, kinds: ['throttle'], targets: ['gateway'] });
    expect(
      await faulty.charge({ token: 'tok_sim_approve_000000000000000000000000', amount: 5, currency: 'USD', idempotencyKey: 'k2', description: 'x' }),
    ).toMatchObject({
      status: 'failed',
    });
    expect(gateway.chargeRequestsFor('k2')).toBe(0);
  });

  it('sends a lost mail and reports a temporary failure', async () => {
    const sent: string[] = [];
    const mailer: Mailer = {
      send: async (m) => {
        sent.push(m.subject);
        return { messageId: 'm1' };
      },
    };
    startFaults({ rate: 1, seed: 6, kinds: ['lost'], targets: ['mailer'] });
    const error = await mailerWithFaults(mailer)
      .send({ from: 'a@example.com', to: ['b@example.com'], subject: 'hi', html: '', text: '' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MailSendError);
    expect(error).toMatchObject({ permanent: false });
    expect(sent).toEqual(['hi']);
  });
});
