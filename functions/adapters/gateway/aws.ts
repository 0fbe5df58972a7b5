import type { ChargeRequest, PaymentDetails, PaymentGateway, RefundRequest } from './port.js';
import { StripeGateway } from './stripe.js';
import { secretsProvider } from '../secrets/aws.js';

/** Stripe with its secret key read from Secrets Manager on first use (cached five minutes by Powertools). */
export class SecretStripeGateway implements PaymentGateway {
  readonly name = 'stripe';
  readonly livemode = true;
  constructor(private readonly secretId: string) {}

  private async gateway(): Promise<StripeGateway> {
    const secretKey = await secretsProvider().get(this.secretId, { maxAge: 300 });
    if (typeof secretKey !== 'string' || !secretKey) throw new Error('The Stripe secret key is missing');
    return new StripeGateway({ secretKey });
  }

  async tokenize(details: PaymentDetails) {
    return (await this.gateway()).tokenize(details);
  }
  async charge(request: ChargeRequest) {
    return (await this.gateway()).charge(request);
  }
  async refund(request: RefundRequest) {
    return (await this.gateway()).refund(request);
  }
}
