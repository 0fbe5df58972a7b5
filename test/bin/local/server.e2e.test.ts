import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest } from '../../support/platform.js';
import { startTestApi, type TestApi } from '../../support/stack.js';

/** The local stand-in for API Gateway, spoken to byte for byte over node:http. */
let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api?.stack.stop();
});

const asStaff = { authorization: '' };
beforeAll(() => {
  asStaff.authorization = `Bearer ${api.facts.staffToken}`;
});

describe('dot segments are opaque path values, never resolved', () => {
  it.each(['%2e%2e', '..', '.%2e', '%2E%2e', '.', '%2e'])(
    'DELETE /v1/clients/{id}/contacts/%s → 404, and the client and its contact are still there',
    async (segment) => {
      const client = await api.staff('POST', '/v1/clients', { company: 'Dot Segment Ltd' });
      expect(client.status).toBe(201);
      const contact = await api.staff('POST', `/v1/clients/${client.body.id}/contacts`, {
        type: 'billing',
        firstName: 'Dot',
        lastName: 'Segment',
        email: 'dot@example.com',
      });
      expect(contact.status).toBe(201);
      const res = await rawRequest(api.url, 'DELETE', `/v1/clients/${client.body.id}/contacts/${segment}`, { headers: asStaff });
      expect(res.status).toBe(404);
      expect(res.headers.get('x-request-id')).toBeTruthy();
      expect((await api.staff('GET', `/v1/clients/${client.body.id}`)).status).toBe(200);
      expect((await api.staff('GET', `/v1/clients/${client.body.id}/contacts/${contact.body.id}`)).status).toBe(200);
    },
  );

  it.each(['%2e%2e', '..', '.'])('a dot segment in place of the client id is a 404 too (GET /v1/clients/%s/summary)', async (segment) => {
    const res = await rawRequest(api.url, 'GET', `/v1/clients/${segment}/summary`, { headers: asStaff });
    expect(res.status).toBe(404);
  });

  it('a path that would resolve to another route is not routed there: /v1/clients/x/../bulk is no route', async () => {
    const res = await rawRequest(api.url, 'POST', '/v1/clients/x/../bulk', { headers: asStaff, body: JSON.stringify({ action: 'delete', ids: ['cl_x'] }) });
    expect(res.status).toBe(404);
  });
});

/** Sends bytes as they are and reads the whole answer (the server closes the connection after a parse error). */
function sendRaw(bytes: string): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const { hostname, port } = new URL(api.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.end(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head, ...rest] = text.split('\r\n\r\n');
      const [statusLine, ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') });
    });
  });
}

describe("requests Node's HTTP parser refuses still get a problem document", () => {
  it.each([
    { label: 'headers over the parser limit', bytes: `GET /v1/health HTTP/1.1\r\nHost: local\r\nX-Padding: ${'x'.repeat(20_000)}\r\n\r\n`, status: 431 },
    {
      label: 'a Content-Length that is not a number',
      bytes: 'POST /v1/client-groups HTTP/1.1\r\nHost: local\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}',
      status: 400,
    },
    {
      label: 'two different Content-Lengths',
      bytes: 'POST /v1/client-groups HTTP/1.1\r\nHost: local\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
      status: 400,
    },
    { label: 'a request line that is not HTTP', bytes: 'HELLO THERE\r\n\r\n', status: 400 },
  ])('$label → $status application/problem+json with x-request-id', async ({ bytes, status }) => {
    const res = await sendRaw(bytes);
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.headers['x-request-id']).toMatch(/\S/);
    expect(JSON.parse(res.body)).toMatchObject({ status });
  });
});
