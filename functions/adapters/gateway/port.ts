import type { CardBrand } from '../../domain/cards.js';

/**
 * The payment gateway: a simulator locally and in tests (`local.ts`), Stripe in production (`stripe.ts`).
 * Card and bank numbers go in once, to `tokenize`; everything after uses the opaque token.
 * Declines and transient failures of a charge are results, never throws, so the caller can always record the
 * attempt's outcome; the one exception is a charge whose answer never came (`GatewayOutcomeUnknownError`).
 */
export interface PaymentGateway {
  /** A short name stored with payment accounts (`local`, `stripe`). */
  readonly name: string;
  /**
   * Whether money moved through it is real: the transactions it makes carry it as `livemode` (false for the simulator,
   * true for Stripe — the deployment chooses the gateway explicitly, `-c gateway=stripe|simulator`).
   */
  readonly livemode: boolean;
  tokenize(details: PaymentDetails): Promise<TokenizedPaymentMethod>;
  charge(request: ChargeRequest): Promise<ChargeResult>;
  refund(request: RefundRequest): Promise<RefundResult>;
}

export interface CardDetails {
  number: string;
  expMonth: number;
  expYear: number;
  cvc?: string;
  /** Cardholder or account holder, from the payment account's contact. */
  holderName?: string;
  postalCode?: string;
  country?: string;
}

export interface AchDetails {
  accountNumber: string;
  routingNumber: string;
  accountType: 'checking' | 'savings';
  holderName?: string;
  holderType?: 'individual' | 'company';
}

export type PaymentDetails = { type: 'card'; card: CardDetails } | { type: 'ach'; ach: AchDetails };

/** What is kept of a payment method: never the number, only the gateway's token and what is safe to show. */
export interface TokenizedPaymentMethod {
  token: string;
  /** The card network, or `ach` for a bank account. */
  brand: CardBrand | 'ach';
  last4: string;
  expMonth?: number;
  expYear?: number;
}

export interface ChargeRequest {
  token: string;
  /** Minor units, > 0. */
  amount: number;
  /** ISO 4217, upper case. */
  currency: string;
  /** Deterministic per attempt: the same key never charges twice. */
  idempotencyKey: string;
  description: string;
}

export type ChargeStatus = 'succeeded' | 'declined' | 'failed';

/**
 * `declined`: the issuer or bank refused (counts toward auto-debit attempts). `failed`: the outcome is a transient
 * or gateway-side error; nothing was charged as far as the gateway told us, and a retry with the same key is safe.
 */
export interface ChargeResult {
  status: ChargeStatus;
  /** The gateway's id of the payment (needed to refund it). */
  gatewayReference?: string;
  declineCode?: string;
  message?: string;
}

export interface RefundRequest {
  gatewayReference: string;
  amount: number;
  idempotencyKey: string;
}

export interface RefundResult {
  status: 'succeeded' | 'failed';
  gatewayReference?: string;
  message?: string;
  /** Failed because the idempotency key was already used for a different refund (a concurrent refund of the same charge): nothing was refunded; re-read and retry. */
  keyConflict?: boolean;
}

/**
 * A charge the gateway may have made, whose answer never came (a timeout, a connection lost after the request was
 * sent). Not `failed`, which tells the payer nothing was charged: the caller keeps the attempt pending, and its outcome
 * is found by asking again with the same idempotency key (billing/payments/reconcile-payment.ts).
 */
export class GatewayOutcomeUnknownError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GatewayOutcomeUnknownError';
  }
}

/** The gateway refused to tokenise the details (`invalid`), or could not be reached (`unavailable`). */
export class GatewayTokenizeError extends Error {
  constructor(
    readonly reason: 'invalid' | 'unavailable',
    message: string,
  ) {
    super(message);
    this.name = 'GatewayTokenizeError';
  }
}
