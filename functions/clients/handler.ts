import { createApiHandler } from '../http/lambda.js';
import { clientRoutes } from './routes.js';

export const handler = createApiHandler(clientRoutes);
