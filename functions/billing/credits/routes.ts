import { json, route } from '../../http/route.js';
import { idParam } from '../../http/schemas.js';
import { companyOf } from '../../domain/principal.js';
import { applyCreditsBody } from '../schemas.js';
import { applyCredits } from './apply-credits.js';
import { readCredits } from './read-credits.js';
import { appliedCreditsSchema, creditsSchema } from '../response-schemas.js';

const STAFF = ['staff'] as const;
const STAFF_AND_CLIENT = ['staff', 'client'] as const;

export const creditRoutes = [
  route({
    method: 'GET',
    path: '/v1/clients/{id}/credits',
    area: 'billing',
    access: STAFF_AND_CLIENT,
    summary: 'Unapplied credit per currency',
    tags: ['Credits'],
    response: creditsSchema,
    params: idParam,
    handle: async ({ principal, params }) => {
      return json(200, { data: await readCredits(companyOf(principal), params.id) });
    },
  }),
  route({
    method: 'POST',
    path: '/v1/clients/{id}/credits/apply',
    area: 'billing',
    access: STAFF,
    summary: 'Apply loose credit to open invoices, oldest due date first (or to one invoice)',
    tags: ['Credits'],
    response: appliedCreditsSchema,
    params: idParam,
    body: applyCreditsBody,
    successStatus: 200,
    handle: async ({ principal, params, body }) => {
      const applied = await applyCredits({
        companyId: companyOf(principal),
        principal,
        clientId: params.id,
        currency: body.currency,
        invoiceId: body.invoiceId,
      });
      return json(200, { applied });
    },
  }),
];
