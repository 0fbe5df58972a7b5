import { GatewayOutcomeUnknownError, GatewayTokenizeError, type ChargeResult, type PaymentGateway, type RefundResult } from '../adapters/gateway/port.js';
import { MailSendError, type Mailer } from '../adapters/mailer/port.js';
import { drawFault, INJECTED, type FaultKind } from './faults.js';

/** The error a lost answer is: the gateway acted, the caller cannot know what it did (as the adapters say it). */
const answerLost = (operation: string) => new GatewayOutcomeUnknownError(`The payment gateway's answer to ${operation} was lost after it acted (${INJECTED})`);

const FAILURE_MESSAGES: Record<Exclude<FaultKind, 'lost'>, string> = {
  throttle: `rate_limit: too many requests to the gateway (${INJECTED})`,
  server: `api_error: the gateway answered HTTP 500 (${INJECTED})`,
  timeout: `The gateway could not be reached: connection timed out (${INJECTED})`,
};

const MAIL_FAILURE_MESSAGES: Record<Exclude<FaultKind, 'lost'>, string> = {
  throttle: `The mail provider is throttling sends (${INJECTED})`,
  server: `The mail provider failed: HTTP 500 (${INJECTED})`,
  timeout: `The mail provider could not be reached: connection timed out (${INJECTED})`,
};

/**
 * The payment gateway behind the fault layer. A refused or unreachable call ends as the adapters end it (Stripe,
 * `stripe.ts`): a `failed` charge or refund, a tokenisation `unavailable`; nothing was sent. A `lost` call was made
 * (the money moved) and then throws, as an answer that never came: the caller must leave the outcome to be found out
 * with the same idempotency key (a pending attempt, settled by the reconciler). Every other member (the simulator's
 * test helpers) is the wrapped gateway's own.
 */
export function gatewayWithFaults(gateway: PaymentGateway): PaymentGateway {
  const faulty: Pick<PaymentGateway, 'tokenize' | 'charge' | 'refund'> = {
    tokenize: async (details) => {
      const kind = drawFault('gateway', 'tokenize');
      if (kind === 'lost') await gateway.tokenize(details);
      if (kind !== undefined) throw new GatewayTokenizeError('unavailable', kind === 'lost' ? `Gateway answer lost (${INJECTED})` : FAILURE_MESSAGES[kind]);
      return gateway.tokenize(details);
    },
    charge: async (request): Promise<ChargeResult> => {
      const kind = drawFault('gateway', 'charge');
      if (kind === undefined) return gateway.charge(request);
      if (kind !== 'lost') return { status: 'failed', message: FAILURE_MESSAGES[kind] };
      await gateway.charge(request);
      throw answerLost('a charge');
    },
    refund: async (request): Promise<RefundResult> => {
      const kind = drawFault('gateway', 'refund');
      if (kind === undefined) return gateway.refund(request);
      if (kind !== 'lost') return { status: 'failed', message: FAILURE_MESSAGES[kind] };
      await gateway.refund(request);
      throw answerLost('a refund');
    },
  };
  return new Proxy(gateway, {
    get: (target, member, receiver) => (member in faulty ? faulty[member as keyof typeof faulty] : Reflect.get(target, member, receiver)),
  });
}

/**
 * The mailer behind the fault layer: a refused or unreachable send is a temporary `MailSendError` (nothing sent); a
 * `lost` one was sent and then fails the same way, as a provider whose answer never came.
 */
export function mailerWithFaults(mailer: Mailer): Mailer {
  return {
    send: async (message) => {
      const kind = drawFault('mailer', 'send');
      if (kind === undefined) return mailer.send(message);
      if (kind === 'lost') await mailer.send(message);
      throw new MailSendError(kind === 'lost' ? `The provider's answer was lost after it took the message (${INJECTED})` : MAIL_FAILURE_MESSAGES[kind], false);
    },
  };
}
