import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { localSesClient, readLocalMailbox, startLocalSes, type LocalSes } from '../../../functions/adapters/mailer/local.js';
import { MailSendError } from '../../../functions/adapters/mailer/port.js';
import { SesMailer } from '../../../functions/adapters/mailer/ses.js';
import { faultReport, startFaults, stopFaults } from '../../../functions/faults/faults.js';

/**
 * SendEmail is sent at most once: an attempt whose answer was lost (SES took the message, the connection broke) is
 * not retried by the SDK, which would mail it twice (found by the fault workload, test/faults/workload.e2e.test.ts);
 * an answer saying SES did not take it (throttling) is still retried.
 */
let ses: LocalSes;
let mailer: SesMailer;
beforeAll(async () => {
  ses = await startLocalSes();
  mailer = new SesMailer({ client: localSesClient(ses.endpoint) });
});
afterAll(async () => {
  await ses?.stop();
});
afterEach(() => {
  stopFaults();
});

const message = (subject: string) => ({ from: 'billing@example.com', to: ['payer@example.com'], subject, html: '<p>Hello</p>', text: 'Hello' });
const copiesOf = async (subject: string) => (await readLocalMailbox(ses.endpoint)).filter((mail) => mail.subject === subject).length;

describe('a mail whose SES answer is lost', () => {
  it('is sent once and reported as a temporary failure, not sent again by the SDK', async () => {
    const subject = `lost ${randomBytes(4).toString('hex')}`;
    startFaults({ rate: 1, seed: 11, kinds: ['lost'], targets: ['ses'], limit: 1 });
    const error = await mailer.send(message(subject)).catch((e: unknown) => e);
    expect(faultReport()?.injected.ses.lost).toBe(1);
    expect(error).toBeInstanceOf(MailSendError);
    expect(error).toMatchObject({ permanent: false });
    expect(await copiesOf(subject)).toBe(1);
  });

  it('is retried after throttling, which SES answers without taking the message', async () => {
    const subject = `throttled ${randomBytes(4).toString('hex')}`;
    startFaults({ rate: 1, seed: 12, kinds: ['throttle'], targets: ['ses'], limit: 1 });
    expect(await mailer.send(message(subject))).toEqual({ messageId: expect.any(String) });
    expect(faultReport()?.injected.ses.throttle).toBe(1);
    expect(await copiesOf(subject)).toBe(1);
  });
});
