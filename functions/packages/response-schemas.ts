import * as z from 'zod';
import { PRICING_PERIODS } from '../domain/package.js';
import { SERVICE_STATUSES, SUSPENDED_BY } from '../domain/service.js';
import { calendarDate, listOf, minorUnits, timestamp, version } from '../http/schemas.js';

/** What the API answers about packages and services (the views in domain/package.ts and domain/service.ts). */

const pricingSchema = z.strictObject({
  id: z.string(),
  term: z.number().int(),
  period: z.enum(PRICING_PERIODS),
  price: minorUnits,
  setupFee: minorUnits,
  currency: z.string(),
});

export const packageSchema = z
  .strictObject({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    pricing: z.array(pricingSchema),
    createdAt: timestamp,
    updatedAt: timestamp,
    version,
  })
  .meta({
    id: 'Package',
    description: 'A product sold as services: a price per term in each currency, and a one-time setup fee. Amounts are integer minor units.',
    examples: [
      {
        id: 'pkg_01JE7Y0M4Q6S8U0W2Y4A6C8E0G',
        name: 'Shared hosting',
        description: null,
        pricing: [{ id: 'prc_01JE7Y0M4Q6S8U0W2Y4A6C8E0H', term: 1, period: 'month', price: 999, setupFee: 0, currency: 'USD' }],
        createdAt: '2026-01-05T10:00:00.000Z',
        updatedAt: '2026-01-05T10:00:00.000Z',
        version: 1,
      },
    ],
  });

export const packageListSchema = listOf(packageSchema);

export const serviceSchema = z
  .strictObject({
    id: z.string(),
    clientId: z.string(),
    packageId: z.string(),
    package: z.strictObject({ id: z.string(), name: z.string() }),
    pricingId: z.string(),
    pricing: pricingSchema.meta({ description: 'The pricing as it was when the service was added.' }),
    quantity: z.string().meta({ description: 'Exactly as given: a decimal ("1.5") or a fraction ("55/60").' }),
    status: z.enum(SERVICE_STATUSES),
    suspendedBy: z.enum(SUSPENDED_BY).nullable(),
    startDate: calendarDate,
    renewDate: calendarDate.nullable().meta({
      description: 'The first day not paid for: start date + one term, moved on one term by each paid renewal. Null for one-time and pending services.',
    }),
    canceledOn: calendarDate.nullable(),
    createdAt: timestamp,
    updatedAt: timestamp,
    version,
  })
  .meta({
    id: 'Service',
    description: 'A package sold to a client.',
    examples: [
      {
        id: 'svc_01JE7Y0M4Q6S8U0W2Y4A6C8E0G',
        clientId: 'cl_01JE7X3Q8ZK2M4N6P8R0T2V4X6',
        packageId: 'pkg_01JE7Y0M4Q6S8U0W2Y4A6C8E0G',
        package: { id: 'pkg_01JE7Y0M4Q6S8U0W2Y4A6C8E0G', name: 'Shared hosting' },
        pricingId: 'prc_01JE7Y0M4Q6S8U0W2Y4A6C8E0H',
        pricing: { id: 'prc_01JE7Y0M4Q6S8U0W2Y4A6C8E0H', term: 1, period: 'month', price: 999, setupFee: 0, currency: 'USD' },
        quantity: '1',
        status: 'active',
        suspendedBy: null,
        startDate: '2026-01-05',
        renewDate: '2026-02-05',
        canceledOn: null,
        createdAt: '2026-01-05T10:00:00.000Z',
        updatedAt: '2026-01-05T10:00:00.000Z',
        version: 1,
      },
    ],
  });
