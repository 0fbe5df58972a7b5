import { createApiHandler } from '../http/lambda.js';
import { billingRoutes } from './routes.js';

export const handler = createApiHandler(billingRoutes);
