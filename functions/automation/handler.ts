import { createApiHandler } from '../http/lambda.js';
import { automationRoutes } from './routes.js';

export const handler = createApiHandler(automationRoutes);
