import { createApiHandler } from '../http/lambda.js';
import { platformRoutes } from './routes.js';

export const handler = createApiHandler(platformRoutes);
