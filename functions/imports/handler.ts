import { createApiHandler } from '../http/lambda.js';
import { importRoutes } from './routes.js';

export const handler = createApiHandler(importRoutes);
