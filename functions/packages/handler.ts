import { createApiHandler } from '../http/lambda.js';
import { packageRoutes } from './routes.js';

export const handler = createApiHandler(packageRoutes);
