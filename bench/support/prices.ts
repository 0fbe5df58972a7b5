/**
 * Every AWS price the cost model (bench/cost.ts) uses, in one place: US East (N. Virginia), on-demand list prices in
 * USD, without free tiers or volume discounts. Taken from AWS's public pricing pages as they stood in mid-2025 (the
 * DynamoDB on-demand prices are those after the November 2024 halving); check them against the current pages before
 * quoting a figure. Billow's functions run on arm64 (lib/function.ts), hence the Graviton Lambda price.
 */
export const PRICES = {
  asOf: '2025-06',
  region: 'us-east-1',
  dynamodb: {
    /** On-demand, per million write request units (1 KB written; 2 per KB in a transaction). */
    perMillionWriteUnits: 0.625,
    /** On-demand, per million read request units (4 KB strongly consistent; half eventually consistent; 2 in a transaction). */
    perMillionReadUnits: 0.125,
  },
  lambda: {
    /** arm64, per GB-second of duration (first pricing tier). */
    perGbSecond: 0.0000133334,
    perMillionRequests: 0.2,
  },
  stepFunctions: {
    /** Standard workflows, per state transition. */
    perTransition: 0.000025,
  },
  sqs: {
    /** Standard queue, per million requests (each 64 KB chunk of a payload is a request). */
    perMillionRequests: 0.4,
  },
  ses: {
    /** Outbound email, per message (per 1,000: $0.10). */
    perEmail: 0.0001,
  },
  apiGateway: {
    /** HTTP API, per million requests (first 300 million a month; 512 KB metering units). */
    perMillionHttpRequests: 1.0,
  },
} as const;

export const priceSource = `AWS list prices, ${PRICES.region}, as of ${PRICES.asOf} (bench/support/prices.ts)`;
