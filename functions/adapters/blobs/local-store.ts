/**
 * What a function's bundle loads of the local blob store (`functions/services.ts` imports this module on first use):
 * the store alone. The bundle gets all of a dynamically imported module's exports, and `local.ts` also starts the
 * s3rver of the local stack, which must stay out of the Lambda bundles.
 */
export { localBlobStore } from './local.js';
