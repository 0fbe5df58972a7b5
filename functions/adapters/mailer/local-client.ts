/**
 * What a function's bundle loads of the local SES stand-in (`functions/services.ts` imports this module on first
 * use): the client alone. The bundle gets all of a dynamically imported module's exports, and `local.ts` also starts
 * the stand-in's server, which must stay out of the Lambda bundles.
 */
export { localSesClient } from './local.js';
