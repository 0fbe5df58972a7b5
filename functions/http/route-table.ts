import { platformRoutes } from '../platform/routes.js';
import { companyRoutes } from '../companies/routes.js';
import { clientRoutes } from '../clients/routes.js';
import { billingRoutes } from '../billing/routes.js';
import { emailRoutes } from '../email/routes.js';
import type { AnyRoute } from './route.js';

/**
 * Every route of the API. The CDK stack builds API Gateway routes from it, the local server dispatches with it,
 * `/openapi.json` documents it, and the tenant-isolation tests walk it.
 */
export const allRoutes: AnyRoute[] = [...platformRoutes, ...companyRoutes, ...clientRoutes, ...billingRoutes, ...emailRoutes];
