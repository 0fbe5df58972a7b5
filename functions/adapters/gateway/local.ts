import { createHash, randomBytes } from 'node:crypto';
import { cardBrand, cardDigits, cardUsableOn, isValidAccountNumber, isValidRoutingNumber, last4, luhnValid } from '../../domain/cards.js';
import {
  GatewayTokenizeError,
  type ChargeRequest,
  type ChargeResult,
  type PaymentDetails,
  type PaymentGateway,
  type RefundRequest,
  type RefundResult,
  type TokenizedPaymentMethod,
} from './port.js';

/** How a simulated payment method behaves when charged. */
export type SimulatedBehaviour = 'approve' | 'decline' | 'fail';

/** The documented test numbers (API.md, Payment accounts); any other valid card or account approves. */
export const SIMULATOR_TEST_NUMBERS = {
  cardApproves: '4242424242424242',
  cardDeclines: '4000000000000002',
  cardFailsTransiently: '4000000000000119',
  achApproves: '000123456789',
  achDeclines: '000111111116',
  routingNumber: '110000000',
} as const;

const TOKEN = /^tok_sim_(approve|decline|fail)_[0-9a-f]{24}$/;

/** A short stable digest, so references derived from idempotency keys match across processes. */
const digest = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 24);

interface RememberedCharge {
  fingerprint: string;
  result: ChargeResult;
  amount: number;
}

/**
 * The local simulated gateway. Tokens carry only the behaviour class (`tok_sim_decline_<random>`), never the
 * number, so a token issued by one process charges the same way in another. Results are deterministic: the
 * gateway reference is derived from the idempotency key, and a repeated key returns the first result without
 * charging again (remembered per process; across processes the derived reference still matches).
 */
export class LocalGateway implements PaymentGateway {
  readonly name = 'local';
  readonly livemode = false;
  private readonly charges = new Map<string, RememberedCharge>();
  /** Charge requests received per idempotency key, replays included (the first is the only one that charges). */
  private readonly chargeRequests = new Map<string, number>();
  private readonly refunds = new Map<string, { fingerprint: string; result: RefundResult }>();
  private readonly refundedByReference = new Map<string, number>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  /** Validates the details as a real gateway would, then returns a token naming only the behaviour. */
  async tokenize(details: PaymentDetails): Promise<TokenizedPaymentMethod> {
    if (details.type === 'card') {
      const { card } = details;
      const digits = cardDigits(card.number);
      if (!digits || digits.length < 12 || digits.length > 19 || !luhnValid(digits)) throw new GatewayTokenizeError('invalid', 'The card number is invalid.');
      if (!cardUsableOn(card.expMonth, card.expYear, this.now())) throw new GatewayTokenizeError('invalid', 'The card has expired.');
      const behaviour: SimulatedBehaviour =
        digits === SIMULATOR_TEST_NUMBERS.cardDeclines ? 'decline' : digits === SIMULATOR_TEST_NUMBERS.cardFailsTransiently ? 'fail' : 'approve';
      return { token: newToken(behaviour), brand: cardBrand(digits), last4: last4(digits), expMonth: card.expMonth, expYear: card.expYear };
    }
    const { ach } = details;
    if (!isValidRoutingNumber(ach.routingNumber)) throw new GatewayTokenizeError('invalid', 'The routing number is invalid.');
    if (!isValidAccountNumber(ach.accountNumber)) throw new GatewayTokenizeError('invalid', 'The account number is invalid.');
    const behaviour: SimulatedBehaviour = ach.accountNumber === SIMULATOR_TEST_NUMBERS.achDeclines ? 'decline' : 'approve';
    return { token: newToken(behaviour), brand: 'ach', last4: last4(ach.accountNumber) };
  }

  /** Charges by the token's behaviour; the same idempotency key returns the first result and charges once. */
  async charge(request: ChargeRequest): Promise<ChargeResult> {
    const fingerprint = `${request.token}|${request.amount}|${request.currency}`;
    this.chargeRequests.set(request.idempotencyKey, (this.chargeRequests.get(request.idempotencyKey) ?? 0) + 1);
    const remembered = this.charges.get(request.idempotencyKey);
    if (remembered) {
      if (remembered.fingerprint !== fingerprint) throw new Error('Idempotency key reused with a different charge');
      return { ...remembered.result };
    }
    const result = simulateCharge(request);
    this.charges.set(request.idempotencyKey, { fingerprint, result, amount: request.amount });
    return { ...result };
  }

  /** Refunds a simulated charge; more than the charge (when this process made it) fails. Idempotent per key. */
  async refund(request: RefundRequest): Promise<RefundResult> {
    const fingerprint = `${request.gatewayReference}|${request.amount}`;
    const remembered = this.refunds.get(request.idempotencyKey);
    if (remembered) {
      if (remembered.fingerprint !== fingerprint) return { status: 'failed', keyConflict: true, message: 'Idempotency key reused with a different refund.' };
      return { ...remembered.result };
    }
    const result = this.simulateRefund(request);
    this.refunds.set(request.idempotencyKey, { fingerprint, result });
    return { ...result };
  }

  /** The successful charges this process made, for tests: one per idempotency key, however often it was sent. */
  succeededCharges(): { idempotencyKey: string; gatewayReference: string; amount: number }[] {
    return [...this.charges]
      .filter(([, charge]) => charge.result.status === 'succeeded')
      .map(([idempotencyKey, charge]) => {
        const { gatewayReference } = charge.result;
        if (gatewayReference === undefined) throw new Error(`The simulated charge ${idempotencyKey} succeeded without a gateway reference.`);
        return { idempotencyKey, gatewayReference, amount: charge.amount };
      });
  }

  /** How many charge requests this process received with the key, for tests: a replay answers without charging. */
  chargeRequestsFor(idempotencyKey: string): number {
    return this.chargeRequests.get(idempotencyKey) ?? 0;
  }

  /** What this process refunded on a charge, for tests. */
  refundedTotal(gatewayReference: string): number {
    return this.refundedByReference.get(gatewayReference) ?? 0;
  }

  private simulateRefund(request: RefundRequest): RefundResult {
    if (!request.gatewayReference.startsWith('ch_sim_')) return { status: 'failed', message: 'No such charge.' };
    if (!Number.isSafeInteger(request.amount) || request.amount <= 0) return { status: 'failed', message: 'The refund amount must be positive.' };
    const charge = [...this.charges.values()].find((c) => c.result.gatewayReference === request.gatewayReference);
    const already = this.refundedByReference.get(request.gatewayReference) ?? 0;
    if (charge && already + request.amount > charge.amount) return { status: 'failed', message: 'The refund exceeds what is left of the charge.' };
    this.refundedByReference.set(request.gatewayReference, already + request.amount);
    return { status: 'succeeded', gatewayReference: `re_sim_${digest(request.idempotencyKey)}` };
  }
}

function newToken(behaviour: SimulatedBehaviour): string {
  return `tok_sim_${behaviour}_${randomBytes(12).toString('hex')}`;
}

function simulateCharge(request: ChargeRequest): ChargeResult {
  const match = TOKEN.exec(request.token);
  if (!match) return { status: 'declined', declineCode: 'invalid_token', message: 'The payment method is not known to the gateway.' };
  if (!Number.isSafeInteger(request.amount) || request.amount <= 0)
    return { status: 'failed', message: 'The amount must be a positive whole number of minor units.' };
  const reference = `ch_sim_${digest(request.idempotencyKey)}`;
  switch (match[1] as SimulatedBehaviour) {
    case 'approve':
      return { status: 'succeeded', gatewayReference: reference };
    case 'decline':
      return { status: 'declined', gatewayReference: reference, declineCode: 'generic_decline', message: 'The payment was declined.' };
    case 'fail':
      return { status: 'failed', gatewayReference: reference, message: 'processing_error: a transient processing error occurred; try again later.' };
  }
}
