import { randomUUID } from 'node:crypto';
import type { CardBrand } from '../../domain/cards.js';
import {
  GatewayOutcomeUnknownError,
  GatewayTokenizeError,
  type ChargeRequest,
  type ChargeResult,
  type PaymentDetails,
  type PaymentGateway,
  type RefundRequest,
  type RefundResult,
  type TokenizedPaymentMethod,
} from './port.js';

export interface StripeGatewayOptions {
  /** The secret API key (`sk_live_…` / `sk_test_…`), from Secrets Manager. */
  secretKey: string;
  /** Defaults to `https://api.stripe.com`; tests point it at a local fake. */
  baseUrl?: string;
  /** Pinned `Stripe-Version`; omitted, the account's default applies. */
  apiVersion?: string;
  /** Per-request timeout; a timeout is a transient failure. Default 30 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

type FormValue = string | number | boolean | undefined;

/** What Stripe answered: its status and parsed JSON, or the network error that prevented an answer. */
type StripeResponse = { kind: 'answer'; status: number; body: StripeBody } | { kind: 'unreachable'; message: string };

interface StripeError {
  type?: string;
  code?: string;
  decline_code?: string;
  message?: string;
  payment_intent?: { id?: string; status?: string };
}

interface StripeBody {
  id?: string;
  status?: string;
  error?: StripeError;
  card?: { brand?: string; last4?: string; exp_month?: number; exp_year?: number };
  us_bank_account?: { last4?: string };
  last_payment_error?: StripeError;
}

/** The payment-method kinds Billow tokenises, as Stripe names them in `payment_method_types`. */
type StripeMethodType = 'card' | 'us_bank_account';

/** Our token: the Stripe customer and the PaymentMethod attached to it, plus its type (needed to charge it). */
const TOKEN = /^stripe:(card|us_bank_account):(cus_[A-Za-z0-9_]+):(pm_[A-Za-z0-9_]+)$/;

const BRANDS: Record<string, CardBrand> = {
  visa: 'visa',
  mastercard: 'mastercard',
  amex: 'amex',
  discover: 'discover',
  jcb: 'jcb',
  diners: 'diners',
};

/** Stripe's form encoding; nested fields are already written with bracketed keys (`card[number]`). Undefined values are left out. */
function formBody(params: Record<string, FormValue>): string {
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) form.append(key, String(value));
  return form.toString();
}

/**
 * Stripe over its REST API with `fetch` (no SDK): tokenising creates a Customer and attaches a PaymentMethod
 * (`card` or `us_bank_account`) to it so it can be charged again off-session; charges are PaymentIntents confirmed
 * at once (`confirm=true`, `off_session=true`); refunds go to `/v1/refunds`. Every POST carries an
 * `Idempotency-Key`. Card errors map to `declined`; 5xx, 429, network errors, timeouts and `processing_error` map to
 * `failed`.
 *
 * Amounts are sent as Billow's minor units, which match Stripe's for most currencies; Stripe treats a few
 * (e.g. ISK, HUF, TWD, and three-decimal currencies needing a trailing 0) specially.
 */
export class StripeGateway implements PaymentGateway {
  readonly name = 'stripe';
  readonly livemode = true;
  private readonly baseUrl: string;
  private readonly fetcher: typeof fetch;

  constructor(private readonly options: StripeGatewayOptions) {
    if (!options.secretKey) throw new Error('A Stripe secret key is required');
    this.baseUrl = (options.baseUrl ?? 'https://api.stripe.com').replace(/\/+$/, '');
    this.fetcher = options.fetch ?? fetch;
  }

  /** Creates a customer, a PaymentMethod with the details, and attaches it; the token names all three parts. */
  async tokenize(details: PaymentDetails): Promise<TokenizedPaymentMethod> {
    const base = randomUUID();
    const customer = await this.tokenizeStep('/v1/customers', {}, `${base}:customer`);
    const methodType: StripeMethodType = details.type === 'card' ? 'card' : 'us_bank_account';
    const params: Record<string, FormValue> =
      details.type === 'card'
        ? {
            type: 'card',
            'card[number]': details.card.number.replace(/[\s-]/g, ''),
            'card[exp_month]': details.card.expMonth,
            'card[exp_year]': details.card.expYear,
            'card[cvc]': details.card.cvc,
            'billing_details[name]': details.card.holderName,
            'billing_details[address][postal_code]': details.card.postalCode,
            'billing_details[address][country]': details.card.country,
          }
        : {
            type: 'us_bank_account',
            'us_bank_account[account_number]': details.ach.accountNumber,
            'us_bank_account[routing_number]': details.ach.routingNumber,
            'us_bank_account[account_type]': details.ach.accountType,
            'us_bank_account[account_holder_type]': details.ach.holderType ?? 'individual',
            // Stripe requires a name on bank-account payment methods.
            'billing_details[name]': details.ach.holderName ?? 'Account holder',
          };
    const method = await this.tokenizeStep('/v1/payment_methods', params, `${base}:payment_method`);
    await this.tokenizeStep(`/v1/payment_methods/${encodeURIComponent(method.id)}/attach`, { customer: customer.id }, `${base}:attach`);

    const token = `stripe:${methodType}:${customer.id}:${method.id}`;
    if (details.type === 'card') {
      return {
        token,
        brand: BRANDS[method.card?.brand ?? ''] ?? 'unknown',
        last4: method.card?.last4 ?? details.card.number.replace(/\D/g, '').slice(-4),
        expMonth: method.card?.exp_month ?? details.card.expMonth,
        expYear: method.card?.exp_year ?? details.card.expYear,
      };
    }
    return { token, brand: 'ach', last4: method.us_bank_account?.last4 ?? details.ach.accountNumber.slice(-4) };
  }

  /**
   * Creates and confirms a PaymentIntent off-session. Every answer is a result; no answer at all (Stripe unreachable,
   * or the request timed out, possibly after Stripe charged) is `GatewayOutcomeUnknownError`.
   */
  async charge(request: ChargeRequest): Promise<ChargeResult> {
    const token = TOKEN.exec(request.token);
    if (!token) return { status: 'declined', declineCode: 'invalid_token', message: 'The payment method token is not a Stripe token.' };
    const [, methodType, customer, paymentMethod] = token;
    const response = await this.post(
      '/v1/payment_intents',
      {
        amount: request.amount,
        currency: request.currency.toLowerCase(),
        customer,
        payment_method: paymentMethod,
        'payment_method_types[0]': methodType,
        confirm: true,
        off_session: true,
        description: request.description,
        // Bank debits need a mandate; the client authorised it when the account was saved.
        ...(methodType === 'us_bank_account' ? { 'mandate_data[customer_acceptance][type]': 'offline' } : {}),
      },
      request.idempotencyKey,
    );
    return chargeResult(response);
  }

  /** Refunds part or all of a PaymentIntent. Never throws. */
  async refund(request: RefundRequest): Promise<RefundResult> {
    const response = await this.post('/v1/refunds', { payment_intent: request.gatewayReference, amount: request.amount }, request.idempotencyKey);
    if (response.kind === 'unreachable') return { status: 'failed', message: response.message };
    const { status, body } = response;
    if (status >= 200 && status < 300 && (body.status === 'succeeded' || body.status === 'pending')) return { status: 'succeeded', gatewayReference: body.id };
    return {
      status: 'failed',
      gatewayReference: body.id,
      message: body.error?.message ?? `Refund ${body.status ?? `HTTP ${status}`}`,
      ...(body.error?.type === 'idempotency_error' ? { keyConflict: true } : {}),
    };
  }

  private async tokenizeStep(path: string, params: Record<string, FormValue>, idempotencyKey: string): Promise<StripeBody & { id: string }> {
    const response = await this.post(path, params, idempotencyKey);
    if (response.kind === 'unreachable') throw new GatewayTokenizeError('unavailable', response.message);
    const { status, body } = response;
    const { id } = body;
    if (status >= 200 && status < 300 && id) return { ...body, id };
    const message = body.error?.message ?? `Stripe answered HTTP ${status}`;
    // Card and request errors mean the details were refused; anything else is Stripe or our configuration.
    const refused = status === 402 || (status === 400 && (body.error?.type === 'card_error' || body.error?.type === 'invalid_request_error'));
    throw new GatewayTokenizeError(refused ? 'invalid' : 'unavailable', message);
  }

  private async post(path: string, params: Record<string, FormValue>, idempotencyKey: string): Promise<StripeResponse> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.options.secretKey}`,
      'content-type': 'application/x-www-form-urlencoded',
      'idempotency-key': idempotencyKey,
    };
    if (this.options.apiVersion) headers['stripe-version'] = this.options.apiVersion;
    let response: Response;
    try {
      response = await this.fetcher(`${this.baseUrl}${path}`, {
        method: 'POST',
        headers,
        body: formBody(params),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      return { kind: 'unreachable', message: `Stripe unreachable: ${(error as Error).message}` };
    }
    let body: StripeBody = {};
    try {
      body = (await response.json()) as StripeBody;
    } catch {
      // A non-JSON answer (a proxy's error page) is judged by its status alone.
    }
    return { kind: 'answer', status: response.status, body: body && typeof body === 'object' ? body : {} };
  }
}

function chargeResult(response: StripeResponse): ChargeResult {
  // Reported as failed, a charge Stripe made before the answer was lost would be made again by the payer's next try
  // under a new key: a double charge. Kept pending instead, it is replayed with its own key.
  if (response.kind === 'unreachable') throw new GatewayOutcomeUnknownError(response.message);
  const { status, body } = response;
  if (status >= 500 || status === 429)
    return { status: 'failed', gatewayReference: body.error?.payment_intent?.id, message: body.error?.message ?? `Stripe answered HTTP ${status}` };
  if (body.error) {
    const error = body.error;
    const reference = error.payment_intent?.id;
    if (error.code === 'processing_error') return { status: 'failed', gatewayReference: reference, message: error.message ?? 'processing_error' };
    if (error.type === 'card_error')
      return { status: 'declined', gatewayReference: reference, declineCode: error.decline_code ?? error.code ?? 'card_declined', message: error.message };
    return { status: 'failed', gatewayReference: reference, message: error.message ?? `Stripe answered HTTP ${status}` };
  }
  switch (body.status) {
    case 'succeeded':
    case 'requires_capture':
    // A bank debit settles over days; Stripe has accepted it, and a later failure arrives as an event.
    case 'processing':
      return { status: 'succeeded', gatewayReference: body.id };
    case 'requires_payment_method':
    case 'canceled': {
      const error = body.last_payment_error;
      if (error?.code === 'processing_error') return { status: 'failed', gatewayReference: body.id, message: error.message ?? 'processing_error' };
      return { status: 'declined', gatewayReference: body.id, declineCode: error?.decline_code ?? error?.code ?? 'generic_decline', message: error?.message };
    }
    case 'requires_action':
    case 'requires_confirmation':
      // Off-session charges cannot complete a 3-D Secure challenge: the issuer effectively declined.
      return { status: 'declined', gatewayReference: body.id, declineCode: 'authentication_required', message: 'The card requires authentication.' };
    default:
      return { status: 'failed', gatewayReference: body.id, message: `Unexpected PaymentIntent status ${body.status ?? 'none'}` };
  }
}
