import { createApiHandler } from '../http/lambda.js';
import { companyRoutes } from './routes.js';

export const handler = createApiHandler(companyRoutes);
