import * as z from 'zod';
import { quantityInput } from '../billing/schemas.js';
import { MAX_INVOICE_AMOUNT } from '../domain/invoice-pricing.js';
import { MAX_PRICING_TERM, MAX_PRICINGS, PRICING_PERIODS } from '../domain/package.js';
import { currencyCode, isoDate, requiredText, text } from '../http/schemas.js';

const money = z.number().int('Money is an integer count of minor units.').min(0, 'Must be 0 or more.').max(MAX_INVOICE_AMOUNT);

const pricingInput = z.strictObject({
  term: z.number().int().min(1).max(MAX_PRICING_TERM),
  period: z.enum(PRICING_PERIODS),
  price: money,
  setupFee: money.optional(),
  currency: currencyCode,
});

export const createPackageBody = z.strictObject({
  name: requiredText(200),
  description: text(1000).optional(),
  pricing: z.array(pricingInput).min(1, 'A package needs at least one pricing.').max(MAX_PRICINGS),
});

export const updatePackageBody = z.strictObject({
  name: requiredText(200).optional(),
  description: text(1000).nullable().optional(),
  pricing: z
    .array(pricingInput.extend({ id: z.string().min(1).max(100).optional().meta({ description: 'Keep this existing pricing (and its id).' }) }))
    .min(1, 'A package needs at least one pricing.')
    .max(MAX_PRICINGS)
    .optional(),
});

export const addServiceBody = z.strictObject({
  packageId: z.string().min(1).max(100),
  pricingId: z.string().min(1).max(100),
  quantity: quantityInput.optional(),
  startDate: isoDate.optional(),
  status: z.enum(['active', 'pending']).optional(),
});

export const activateServiceBody = z.strictObject({
  startDate: isoDate.optional().meta({ description: "First day of the first term; default the service's start date, or today if that has passed." }),
});
