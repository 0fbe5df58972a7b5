// `npm start`: the whole system on this machine, on the same handlers, table design and route table as AWS.
import './local/preamble.js';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalStackError } from './local/dynamodb-local.js';
import { startLocalStack, type LocalStack } from './local/stack.js';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const stateDir = process.env.BILLOW_STATE_DIR ?? join(root, '.billow');
const port = Number(process.env.BILLOW_PORT ?? 3000);

let running: LocalStack | undefined;
/** DynamoDB Local keeps dying: every request would be a 503, so stop and say why rather than serve nothing. */
async function giveUp(error: LocalStackError): Promise<never> {
  console.error(`Billow stopped: ${error.message} Look for its cause (memory, disk space under ${join(stateDir, 'dynamodb')}) and run npm start again.`);
  await running?.stop();
  process.exit(1);
}

try {
  const stack = await startLocalStack({ stateDir, port, onDynamoGaveUp: (error) => void giveUp(error) });
  running = stack;
  const f = stack.facts;
  console.log(`Billow is running at ${f.apiUrl}  (state in ${stateDir}; Ctrl-C stops it)

  API docs        ${f.apiUrl}/docs
  Sent mail       ${f.mailUrl}  (the SES stand-in; JSON at ${f.mailUrl}/store)
  Mail bodies     ${f.blobsUrl}  (the S3 stand-in, for messages too large for an item)
  DynamoDB Local  ${f.dynamoEndpoint}  (restarted on the same port if it dies)
  Company         ${f.companyId}
  Staff login     ${f.staffUsername} / ${f.staffPassword}
  Operator login  ${f.operatorUsername} / ${f.operatorPassword}

  Staff token:
  ${f.staffToken}

  Operator token:
  ${f.operatorToken}

  Try:  curl -H "Authorization: Bearer $(node -p "require('./.billow/local.json').staffToken")" ${f.apiUrl}/v1/client-groups
  These facts are also in ${join(stateDir, 'local.json')}.`);

  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping Billow…');
    await stack.stop();
    console.log('Stopped. Data is kept for the next start.');
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
} catch (error) {
  if (error instanceof LocalStackError) {
    console.error(`Billow could not start: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
