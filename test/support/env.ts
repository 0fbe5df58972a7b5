import { inject } from 'vitest';

// Each test file runs in its own process with its own tables (see tables.ts); this only points the SDK at
// DynamoDB Local with credentials it accepts, and keeps logs quiet.
process.env.AWS_ENDPOINT_URL_DYNAMODB = inject('dynamoEndpoint');
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'billowlocal';
process.env.AWS_SECRET_ACCESS_KEY = 'billowlocal';
process.env.POWERTOOLS_LOG_LEVEL = process.env.BILLOW_TEST_LOG_LEVEL ?? 'SILENT';
import '../../bin/local/preamble.js';
