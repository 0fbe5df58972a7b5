// `npm start`: the whole system on this machine, on the same handlers, table design and route table as AWS.
import './local/preamble.js';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TOKEN_LIFETIME_SECONDS } from '../functions/adapters/identity/port.js';
import { faultSettingsFromEnv, startFaults, stopFaults } from '../functions/faults/faults.js';
import { LocalStackError } from './local/dynamodb-local.js';
import { startLocalStack, type LocalFacts, type LocalStack } from './local/stack.js';

const root = join(fileURLToPath(import.meta.url), '..', '..');
// Absolute, so the printed commands work from any folder (and `require` does not take a relative one for a package).
const defaultStateDir = resolve(join(root, '.billow'));
const stateDir = resolve(process.env.BILLOW_STATE_DIR ?? defaultStateDir);
const port = Number(process.env.BILLOW_PORT ?? 3000);

/** A word the shell passes on as is: bare when it is plain, else single-quoted. */
const shellWord = (word: string) => (/^[\w./:@%+=,-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`);

/** The commands the banner prints, right for wherever this run keeps its state and whatever port it got. */
function commands(f: LocalFacts, localJson: string) {
  const fromLocalJson = (fact: string) => `$(node -p 'require(process.argv[1]).${fact}' ${shellWord(localJson)})`;
  const login = JSON.stringify({ companyId: f.companyId, username: f.staffUsername, password: f.staffPassword });
  const db = f.dynamodb;
  return {
    tryIt: `curl -s -H "Authorization: Bearer ${fromLocalJson('staffToken')}" ${f.apiUrl}/v1/client-groups`,
    newStaffToken: `curl -s -X POST ${f.apiUrl}/v1/auth/token -H 'Content-Type: application/json' -d ${shellWord(login)}`,
    // The command reads local.json from this run's state folder.
    automation: `${stateDir === defaultStateDir ? '' : `BILLOW_STATE_DIR=${shellWord(stateDir)} `}npm --prefix ${shellWord(root)} run automation -- --date YYYY-MM-DD --dry-run  (without --dry-run it acts; docs/automation.md)`,
    // s3rver stores aws-chunked framing as the object unless checksums are sent only when required (the AWS CLI and
    // SDKs send them by default now): see /work/shared/notes/local-stack.md, section 4.
    s3Drop: `AWS_ACCESS_KEY_ID=${f.s3.accessKeyId} AWS_SECRET_ACCESS_KEY=${f.s3.secretAccessKey} AWS_REQUEST_CHECKSUM_CALCULATION=WHEN_REQUIRED aws --endpoint-url ${f.s3.endpoint} --region ${f.s3.region} s3 cp clients.csv s3://${f.s3.importsBucket}/imports/${f.companyId}/clients.csv`,
    importCli: `${stateDir === defaultStateDir ? '' : `BILLOW_STATE_DIR=${shellWord(stateDir)} `}npm --prefix ${shellWord(root)} run import -- clients.csv [--dry-run] [--map field=column ...]  (docs/imports.md)`,
    scan: `AWS_ACCESS_KEY_ID=${db.accessKeyId} AWS_SECRET_ACCESS_KEY=${db.secretAccessKey} aws dynamodb scan --endpoint-url ${db.endpoint} --region ${db.region} --table-name ${shellWord(db.tables.main)}`,
  };
}

let running: LocalStack | undefined;
/** DynamoDB Local keeps dying: every request would be a 503, so stop and say why rather than serve nothing. */
async function giveUp(error: LocalStackError): Promise<never> {
  console.error(`Billow stopped: ${error.message} Look for its cause (memory, disk space under ${join(stateDir, 'dynamodb')}) and run npm start again.`);
  await running?.stop();
  process.exit(1);
}

try {
  // `BILLOW_FAULT_RATE` is for the requests served: the stack's own start (tables, the seed, the printed tokens) runs
  // without faults, or a fault there would stop `npm start` before it serves anything.
  const faults = faultSettingsFromEnv();
  stopFaults();
  const stack = await startLocalStack({ stateDir, port, onDynamoGaveUp: (error) => void giveUp(error) });
  running = stack;
  const f = stack.facts;
  const localJson = join(stateDir, 'local.json');
  const printed = commands(f, localJson);
  const db = f.dynamodb;
  if (faults) startFaults(faults);
  const faultsOn = faults
    ? `

  Fault injection is ON: ${faults.rate} of the calls to DynamoDB, S3, SES, SFN, SQS, the gateway and the mailer fail
  (seed ${faults.seed}, ${faults.callShare ?? 0} of the SDK faults past its retries; docs/reliability.md).`
    : '';
  console.log(`Billow is running at ${f.apiUrl}  (state in ${stateDir}; Ctrl-C stops it)

  API docs        ${f.apiUrl}/docs
  Sent mail       ${f.mailUrl}  (the SES stand-in; JSON at ${f.mailUrl}/store)
  Mail bodies     ${f.blobsUrl}  (the S3 stand-in, for messages too large for an item)
  Imports bucket  ${f.s3.importsBucket} on the S3 stand-in ${f.s3.endpoint}
                  region ${f.s3.region}, access key ${f.s3.accessKeyId}, secret key ${f.s3.secretAccessKey}
  DynamoDB Local  ${db.endpoint}  (restarted on the same port if it dies)
                  region ${db.region}, access key ${db.accessKeyId}, secret key ${db.secretAccessKey}
                  tables: ${db.tables.main} (main), ${db.tables.identity} (identity: the logins)
  Company         ${f.companyId}
  Staff login     ${f.staffUsername} / ${f.staffPassword}
  Operator login  ${f.operatorUsername} / ${f.operatorPassword}

  Staff token:
  ${f.staffToken}

  Operator token:
  ${f.operatorToken}

  The tokens expire ${TOKEN_LIFETIME_SECONDS / 60} minutes after this start (npm start makes new ones). A new staff token:
  ${printed.newStaffToken}
  (an operator token: the same with the operator login and no companyId)

  Try:  ${printed.tryIt}
  Look at the data:  ${printed.scan}
  Run the daily automation for a date:  ${printed.automation}
  Import clients from a CSV through the API:  ${printed.importCli}
  Or drop a CSV into the imports bucket as ops would in AWS (imported by its header names):
  ${printed.s3Drop}
  These facts are also in ${localJson}.${faultsOn}`);

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
