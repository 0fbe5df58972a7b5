import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readShapes, recordCallsAndKeys, repeatedReads } from '../support/dynamo-keys.js';
import { type BillingApi, expectStatus, newClient, startBillingApi, uniq } from '../support/billing.js';
import type { TestApi } from '../support/stack.js';

/**
 * The DynamoDB reads of a client create and of a contact added (issue 13, "Writes": one transaction plus at most two
 * reads, each item once): the company with a given group in one BatchGet, the answer built from what the create wrote
 * (a new client has no balance nor note); a contact reads the company with the client in one BatchGet, then the group.
 */
let stack: BillingApi;
let api: TestApi;

beforeAll(async () => {
  stack = await startBillingApi();
  api = stack.api;
});
afterAll(async () => {
  await stack?.stop();
});

describe('the reads of a client create', () => {
  it('in the default group: the company, then the group for the answer — and the answer is what a GET shows', async () => {
    let created: any;
    const { calls, keys } = await recordCallsAndKeys(async () => {
      const res = await api.staff('POST', '/v1/clients', {
        firstName: 'Ada',
        lastName: 'Reads',
        email: `${uniq('ada')}@example.com`,
        city: 'Springfield',
        country: 'US',
      });
      expectStatus(res, 201);
      created = res.body;
    });
    expect(readShapes(keys), keys.lines().join('\n')).toEqual(['BatchGetItem COMPANY', 'GetItem GROUP#']);
    expect(repeatedReads(keys.calls), keys.lines().join('\n')).toEqual([]);
    expect(calls.calls.filter((c) => c.command === 'TransactWriteItemsCommand')).toHaveLength(1);
    const stored = await api.staff('GET', `/v1/clients/${created.id}`);
    expect(stored.body).toEqual(created);
    expect(created.hasLogin).toBe(true);
    expect(created.group).not.toBeNull();
  });

  it('in a given group: the company and the group in one BatchGet', async () => {
    const group = await api.staff('POST', '/v1/client-groups', { name: uniq('Group') });
    expectStatus(group, 201);
    let created: any;
    const { keys } = await recordCallsAndKeys(async () => {
      const res = await api.staff('POST', '/v1/clients', { company: 'Reads Ltd', groupId: group.body.id });
      expectStatus(res, 201);
      created = res.body;
    });
    expect(readShapes(keys), keys.lines().join('\n')).toEqual(['BatchGetItem COMPANY GROUP#']);
    expect(repeatedReads(keys.calls)).toEqual([]);
    expect(created.group).toEqual({ id: group.body.id, name: group.body.name });
    expect((await api.staff('GET', `/v1/clients/${created.id}`)).body).toEqual(created);
  });

  it('a group that does not exist is still refused, naming groupId', async () => {
    const res = await api.staff('POST', '/v1/clients', { company: 'No Group Ltd', groupId: 'grp_missing' });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('groupId');
  });
});

describe('the reads of a contact added', () => {
  it('the company with the client in one BatchGet, then the group: two reads, each item once', async () => {
    const client = await newClient(api);
    let contact: any;
    const { calls, keys } = await recordCallsAndKeys(async () => {
      const res = await api.staff('POST', `/v1/clients/${client.id}/contacts`, {
        type: 'billing',
        firstName: 'Con',
        lastName: 'Tact',
        email: `${uniq('ct')}@example.com`,
      });
      expectStatus(res, 201);
      contact = res.body;
    });
    expect(readShapes(keys), keys.lines().join('\n')).toEqual(['BatchGetItem CLIENT COMPANY', 'GetItem GROUP#']);
    expect(repeatedReads(keys.calls)).toEqual([]);
    expect(calls.calls.filter((c) => c.command === 'TransactWriteItemsCommand')).toHaveLength(1);
    const stored = await api.staff('GET', `/v1/clients/${client.id}/contacts/${contact.id}`);
    expect(stored.body).toEqual(contact);
  });
});
