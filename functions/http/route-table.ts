import { platformRoutes } from '../platform/routes.js';
import { companyRoutes } from '../companies/routes.js';
import { clientRoutes } from '../clients/routes.js';
import { billingRoutes } from '../billing/routes.js';
import { emailRoutes } from '../email/routes.js';
import { packageRoutes } from '../packages/routes.js';
import { automationRoutes } from '../automation/routes.js';
import { importRoutes } from '../imports/routes.js';
import type { AnyRoute } from './route.js';

/**
 * Every route of the API. The CDK stack builds API Gateway routes and the `/openapi.json` document from it, the
 * local server dispatches with it, and the tenant-isolation tests walk it. Only those import it: it pulls every area
 * into whatever does (the platform function serves the document it was shipped, `OPENAPI_FILE`).
 */
export const allRoutes: AnyRoute[] = [
  ...platformRoutes,
  ...companyRoutes,
  ...clientRoutes,
  ...billingRoutes,
  ...emailRoutes,
  ...packageRoutes,
  ...automationRoutes,
  ...importRoutes,
];
