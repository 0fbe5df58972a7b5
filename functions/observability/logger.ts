import { Logger } from '@aws-lambda-powertools/logger';

/** One structured JSON logger per container; the request id is appended per request by the pipeline. */
export const logger = new Logger({ serviceName: 'billow' });
