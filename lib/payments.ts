import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/** The alias of the key that wraps the data keys of stored payment details. */
export const PAYMENT_KEY_ALIAS = 'alias/billow/payment-details';

/**
 * Which payment gateway the deployed API uses, chosen explicitly at deploy time (`-c gateway=…`): `simulator` is
 * the simulator with its documented test numbers (`functions/adapters/gateway/local.ts`), which moves no money —
 * its transactions carry `livemode: false`; `stripe` reads the Stripe secret key from Secrets Manager.
 */
export type GatewayChoice = 'simulator' | 'stripe';
export const GATEWAY_CHOICES: readonly GatewayChoice[] = ['simulator', 'stripe'];

export interface BillowPaymentsProps {
  gateway: GatewayChoice;
}

/**
 * Payments infrastructure: the customer-managed KMS key that envelope-encrypts the payment details Billow
 * keeps (`functions/adapters/crypto/kms.ts`: GenerateDataKey to seal, Decrypt to open, with the company and
 * account as encryption context), and with `gateway: 'stripe'` the secret holding the Stripe secret key.
 */
export class BillowPayments extends Construct {
  readonly key: kms.Key;
  /** Only when the gateway is Stripe. */
  readonly gatewaySecret?: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: BillowPaymentsProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'PaymentDetailsKey', {
      description: 'Billow: wraps the data keys of stored payment details (envelope encryption)',
      alias: PAYMENT_KEY_ALIAS,
      enableKeyRotation: true,
      // Ciphertexts in the table outlive any stack: deleting the key would make every stored account unreadable.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    if (props.gateway === 'stripe') {
      this.gatewaySecret = new secretsmanager.Secret(this, 'StripeSecretKey', {
        description: 'Billow: the Stripe secret key (sk_live_… / sk_test_…). Replace the generated placeholder with put-secret-value after the first deploy.',
        // A placeholder so the secret exists; the gateway refuses to charge until it holds a real Stripe key.
        generateSecretString: { passwordLength: 32, excludePunctuation: true, includeSpace: false },
      });
      Validations.of(this.gatewaySecret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'The value is a Stripe API key that only Stripe can issue; a rotation Lambda cannot mint one. It is rolled in the Stripe dashboard and written here with put-secret-value (README, Deploying).',
      });
    }
  }
}
