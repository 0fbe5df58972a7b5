import { createApiHandler } from '../http/lambda.js';
import { emailRoutes } from './routes.js';

export const handler = createApiHandler(emailRoutes);
