/**
 * Billow's layering, checked by `npm test` (`npm run lint:deps`). Where a use case, a rule, a key and a route live
 * is written down in the README ("Layout"); these rules keep it so.
 */
const AREAS = '(billing|clients|companies|email|email-events|identity-triggers|platform|imports|automation|packages|services)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'functions/domain holds pure rules and entity types: it imports nothing of Billow outside domain.',
      severity: 'error',
      from: { path: '^functions/domain/' },
      to: { path: '^functions/', pathNot: '^functions/domain/' },
    },
    {
      name: 'domain-has-no-aws',
      comment: 'No AWS SDK, Lambda types or Powertools in the domain: it is unit-tested without any of them.',
      severity: 'error',
      from: { path: '^functions/domain/' },
      to: { path: '(^|/)node_modules/(@aws-sdk|@smithy|@aws-lambda-powertools|aws-lambda|@middy)/' },
    },
    {
      name: 'store-and-adapters-below-http-and-areas',
      comment: 'The store and the adapters serve every entry point (API, automation, imports): they never import the HTTP layer or an area.',
      severity: 'error',
      from: { path: '^functions/(store|adapters)/' },
      to: { path: `^functions/(http|${AREAS.slice(1, -1)})/` },
    },
    {
      name: 'http-uses-the-store-not-sdk-clients',
      comment: 'The HTTP layer reaches DynamoDB and other services only through the store and the adapters.',
      severity: 'error',
      from: { path: '^functions/http/' },
      to: { path: '(^|/)node_modules/@aws-sdk/(client-|lib-)' },
    },
    {
      name: 'use-cases-know-no-http',
      comment:
        'Use cases are called by the API, the automation and the import worker alike: only route tables, handlers and request schemas of an area may import functions/http.',
      severity: 'error',
      from: { path: `^functions/${AREAS}/`, pathNot: '(routes|handler|schemas|list-route)\\.ts$' },
      to: { path: '^functions/http/' },
    },
    {
      name: 'no-circular',
      comment: 'Import cycles make load order matter and drag whole areas into bundles that need one module.',
      severity: 'error',
      from: { path: '^(functions|lib|bin)/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    parser: 'swc',
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
