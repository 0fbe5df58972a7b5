import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { LocalStackError, startDynamoDbLocal } from '../../../bin/local/dynamodb-local.js';

/** Holds a port on `host` (port 0: the system picks a free one) until closed. */
async function holdPort(host: string): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  return { port: (server.address() as net.AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const javaOnPort = (port: number) => spawnSync('pgrep', ['-f', `DynamoDBLocal.jar -port ${port} `]).status === 0;

async function listTables(endpoint: string): Promise<unknown> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'x-amz-target': 'DynamoDB_20120810.ListTables',
      'content-type': 'application/x-amz-json-1.0',
      authorization: 'AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x',
    },
    body: '{}',
  });
  return res.json();
}

describe('starting DynamoDB Local', () => {
  it('tries another port when Java cannot bind the first, and leaves no Java behind on it', async () => {
    // Held on 127.0.0.2 (loopback too on Linux): free by the check on 127.0.0.1, taken for Java, which binds all
    // addresses. So Java itself meets the taken port, as when another program takes it between check and bind.
    const blocker = await holdPort('127.0.0.2');
    const tried: number[] = [];
    const nextPort = () => {
      const port = tried.length === 0 ? blocker.port : 20_000 + randomInt(12_000);
      tried.push(port);
      return port;
    };
    try {
      const dynamo = await startDynamoDbLocal({ nextPort });
      try {
        expect(tried[0]).toBe(blocker.port);
        expect(dynamo.port).not.toBe(blocker.port);
        expect(dynamo.endpoint).toBe(`http://127.0.0.1:${dynamo.port}`);
        expect(await listTables(dynamo.endpoint)).toEqual({ TableNames: [] });
        expect(javaOnPort(blocker.port)).toBe(false);
      } finally {
        await dynamo.stop();
      }
    } finally {
      await blocker.close();
    }
  }, 60_000);

  it('on a port it was told to use and that is taken, fails with one sentence naming the port', async () => {
    const blocker = await holdPort('127.0.0.1');
    try {
      const started = startDynamoDbLocal({ port: blocker.port });
      await expect(started).rejects.toBeInstanceOf(LocalStackError);
      await expect(started).rejects.toThrow(`Port ${blocker.port} is already in use`);
    } finally {
      await blocker.close();
    }
  });
});
