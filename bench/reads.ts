/**
 * Does a read cost grow with the size of the company? Seeds a small and a large company in DynamoDB Local, then
 * reads the same things in both — a client profile with its sticky notes, one page of the client list and one page
 * of a search — and prints, per read, the consumed read capacity and the wall time in
 * each company and their ratio (large / small). Capacity is deterministic; time is noisy on a shared machine, so it
 * is measured in the same run, interleaved, as a median.
 *
 *   npx tsx bench/reads.ts [smallClients=50] [largeClients=2000]
 */
import '../bin/local/preamble.js';
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startDynamoDbLocal } from '../bin/local/dynamodb-local.js';
import { ensureTables } from '../bin/local/tables.js';
import { generateLocalSigningKey } from '../functions/adapters/identity/local.js';
import { newId } from '../functions/domain/ids.js';
import type { Client } from '../functions/domain/client.js';
import { db } from '../functions/store/dynamo.js';
import { insertClient, listClients, readProfileView, searchClients } from '../functions/store/clients.js';
import { putNewNote } from '../functions/store/client-records.js';

const [small = 50, large = 2000] = process.argv.slice(2).map(Number);
const names = ['Ada', 'Bo', 'Cyd', 'Dee', 'Eli', 'Fay', 'Gus', 'Hal', 'Ivy', 'Jo'];

/** Sums the read capacity every command of the document client reports. */
let consumed = 0;
db().middlewareStack.add(
  (next) => async (args) => {
    (args.input as Record<string, unknown>).ReturnConsumedCapacity = 'TOTAL';
    const out = await next(args);
    const cap = (out.output as { ConsumedCapacity?: { CapacityUnits?: number } | Array<{ CapacityUnits?: number }> }).ConsumedCapacity;
    for (const c of Array.isArray(cap) ? cap : cap ? [cap] : []) consumed += c.CapacityUnits ?? 0;
    return out;
  },
  { step: 'initialize', name: 'countCapacity' },
);

function client(i: number, companyId: string, groupId: string): Omit<Client, 'number'> {
  const now = new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
  return {
    id: newId('cl'),
    status: 'active',
    groupId,
    firstName: names[i % names.length],
    lastName: `Family${i}`,
    company: `Company ${i} Ltd`,
    title: null,
    address1: null,
    address2: null,
    city: null,
    country: 'US',
    state: null,
    zip: null,
    email: `c${i}@${companyId.toLowerCase()}.test`,
    phones: [],
    taxExempt: false,
    taxId: null,
    currency: 'USD',
    username: null,
    userId: null,
    language: 'en',
    marketingOptIn: false,
    customFields: {},
    autoDebitAccountId: null,
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
}

async function seed(count: number): Promise<{ companyId: string; probe: string }> {
  const companyId = newId('co');
  const groupId = newId('grp');
  let probe = '';
  for (let i = 0; i < count; i += 20) {
    const batch = await Promise.all(Array.from({ length: Math.min(20, count - i) }, (_, j) => insertClient(companyId, client(i + j, companyId, groupId))));
    probe ||= batch[0].id;
  }
  // The probed client has the same sticky notes in both companies.
  for (let n = 0; n < 5; n++) {
    const createdAt = new Date(Date.UTC(2026, 1, 1, 0, 0, n)).toISOString();
    const id = newId('note');
    await putNewNote(companyId, {
      id,
      clientId: probe,
      summary: `note ${n}`,
      details: null,
      sticky: true,
      createdBy: 'bench',
      createdAt,
      updatedAt: createdAt,
      version: 1,
    });
  }
  return { companyId, probe };
}

type Read = (companyId: string, probe: string) => Promise<unknown>;
const reads: Record<string, Read> = {
  'profile + sticky notes': (co, cl) => readProfileView(co, cl),
  'client list, first page of 25': (co) => listClients(co, { sort: 'lastName', descending: false, limit: 25 }),
  'search "fam", first page of 25': (co) => searchClients(co, 'fam', { limit: 25 }),
};

async function measure(read: Read, companyId: string, probe: string, runs = 15): Promise<{ rcu: number; ms: number }> {
  const times: number[] = [];
  let rcu = 0;
  for (let r = 0; r < runs; r++) {
    consumed = 0;
    const start = process.hrtime.bigint();
    await read(companyId, probe);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    rcu = consumed;
  }
  times.sort((a, b) => a - b);
  return { rcu, ms: times[Math.floor(times.length / 2)] };
}

const dynamo = await startDynamoDbLocal();
try {
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    BILLOW_TABLE: `billow-bench-${randomBytes(3).toString('hex')}`,
    BILLOW_IDENTITY_TABLE: 'billow-bench-identity',
    BILLOW_SIGNING_SECRET: randomBytes(32).toString('hex'),
    BILLOW_LOCAL_IDENTITY_KEY: JSON.stringify(await generateLocalSigningKey()),
  });
  await ensureTables(new DynamoDBClient({}), { app: process.env.BILLOW_TABLE!, identity: process.env.BILLOW_IDENTITY_TABLE! });
  console.log(`seeding ${small} and ${large} clients…`);
  const a = await seed(small);
  const b = await seed(large);
  console.log(
    `\n${'read'.padEnd(34)} ${'RCU small'.padStart(10)} ${'RCU large'.padStart(10)} ${'ratio'.padStart(6)}   ${'ms small'.padStart(9)} ${'ms large'.padStart(9)} ${'ratio'.padStart(6)}`,
  );
  for (const [name, read] of Object.entries(reads)) {
    await measure(read, a.companyId, a.probe, 3); // warm the JIT of both paths alike
    await measure(read, b.companyId, b.probe, 3);
    const s = await measure(read, a.companyId, a.probe);
    const l = await measure(read, b.companyId, b.probe);
    console.log(
      `${name.padEnd(34)} ${s.rcu.toFixed(1).padStart(10)} ${l.rcu.toFixed(1).padStart(10)} ${(l.rcu / s.rcu).toFixed(2).padStart(6)}   ${s.ms.toFixed(2).padStart(9)} ${l.ms.toFixed(2).padStart(9)} ${(l.ms / s.ms).toFixed(2).padStart(6)}`,
    );
  }
  console.log(`\nA ratio near 1.00 means the read does not grow with the company (${large / small}× more clients).`);
} finally {
  await dynamo.stop();
}
