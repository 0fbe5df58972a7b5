import { EventEmitter } from 'node:events';
import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { importNotification, LocalImportQueue, LOCAL_IMPORTS_QUEUE_ARN, s3EventKey, startLocalImports, type DeadLetter } from '../../../bin/local/imports.js';
import { decodeS3Key } from '../../../functions/imports/worker.js';

/** An event as s3rver emits it (keys raw, the bucket ARN with spaces, the millisecond as sequencer). */
const s3rverEvent = (bucket: string, key: string, eventName = 'ObjectCreated:Put') => ({
  Records: [
    {
      eventVersion: '2.0',
      eventSource: 'aws:s3',
      awsRegion: 'us-east-1',
      eventTime: new Date().toISOString(),
      eventName,
      s3: { bucket: { name: bucket, arn: `arn:aws:s3: : :${bucket}` }, object: { key, size: 12, eTag: 'abc', sequencer: '18F00000000' } },
    },
  ],
});

describe('S3 notifications from s3rver events', () => {
  it('keys are URL-encoded as real S3 writes them (a space as +), so the worker decodes back the same key', () => {
    const key = "imports/co_1/my file+x (1) 'é'!~*.csv";
    const encoded = s3EventKey(key);
    expect(encoded).toBe('imports/co_1/my+file%2Bx+%281%29+%27%C3%A9%27%21%7E*.csv');
    expect(decodeS3Key(encoded)).toBe(key);
  });

  it('only objects created under imports/ of the imports bucket become notifications: the bucket, its ARN and growing sequencers as S3 sends them', () => {
    expect(importNotification(s3rverEvent('billow-blobs', 'imports/co_1/a.csv'), 'billow-imports')).toBeUndefined();
    expect(importNotification(s3rverEvent('billow-imports', 'reports/co_1/imp_1/errors.csv'), 'billow-imports')).toBeUndefined();
    expect(importNotification(s3rverEvent('billow-imports', 'imports/co_1/a.csv', 'ObjectRemoved:Delete'), 'billow-imports')).toBeUndefined();
    expect(importNotification({ nothing: true }, 'billow-imports')).toBeUndefined();
    const first = importNotification(s3rverEvent('billow-imports', 'imports/co_1/a b.csv'), 'billow-imports')!;
    const second = importNotification(s3rverEvent('billow-imports', 'imports/co_1/a b.csv'), 'billow-imports')!;
    expect(first.Records).toHaveLength(1);
    expect(first.Records[0]).toMatchObject({
      eventName: 'ObjectCreated:Put',
      s3: { bucket: { name: 'billow-imports', arn: 'arn:aws:s3:::billow-imports' }, object: { key: 'imports/co_1/a+b.csv', size: 12, eTag: 'abc' } },
    });
    const sequencer = (n: typeof first) => (n.Records[0].s3 as { object: { sequencer: string } }).object.sequencer;
    expect(sequencer(second) > sequencer(first)).toBe(true);
  });

  it('startLocalImports sends each notification to its queue, and stops listening when stopped', async () => {
    const s3Events = new EventEmitter();
    const bodies: unknown[] = [];
    const imports = startLocalImports({
      s3Events,
      bucket: 'billow-imports',
      handler: async (event) => {
        bodies.push(...event.Records.map((r) => JSON.parse(r.body)));
        return { batchItemFailures: [] };
      },
    });
    s3Events.emit('event', s3rverEvent('billow-imports', 'imports/co_1/x.csv'));
    s3Events.emit('event', s3rverEvent('billow-blobs', 'mail/co_1/m/body.json'));
    await imports.queue.idle();
    expect(bodies).toEqual([expect.objectContaining({ Records: [expect.objectContaining({ eventName: 'ObjectCreated:Put' })] })]);
    await imports.stop();
    expect(s3Events.listenerCount('event')).toBe(0);
  });
});

describe('the local imports queue', () => {
  it('delivers one message per invocation in the order sent, at most `concurrency` at once, as Lambda’s SQS records', async () => {
    let active = 0;
    let most = 0;
    const events: SQSEvent[] = [];
    const queue = new LocalImportQueue({
      concurrency: 2,
      handler: async (event) => {
        events.push(event);
        active += 1;
        most = Math.max(most, active);
        await new Promise((r) => setTimeout(r, 5));
        active -= 1;
        return { batchItemFailures: [] };
      },
    });
    for (let n = 0; n < 6; n++) await queue.send({ n });
    await queue.idle();
    expect(most).toBe(2);
    expect(events.map((e) => e.Records.length)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(events.map((e) => JSON.parse(e.Records[0].body).n)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(events[0].Records[0]).toMatchObject({
      eventSource: 'aws:sqs',
      eventSourceARN: LOCAL_IMPORTS_QUEUE_ARN,
      attributes: { ApproximateReceiveCount: '1' },
      md5OfBody: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    await queue.stop();
  });

  it('a message reported failed, or whose invocation throws, is delivered again with its receive count, then dead-lettered', async () => {
    const receives: Array<[string, string]> = [];
    const dead: DeadLetter[] = [];
    const queue = new LocalImportQueue({
      maxReceiveCount: 3,
      redeliveryDelayMs: 1,
      onDeadLetter: (message) => dead.push(message),
      handler: async (event) => {
        const record = event.Records[0];
        const { kind } = JSON.parse(record.body) as { kind: string };
        receives.push([kind, record.attributes.ApproximateReceiveCount]);
        if (kind === 'reported') return { batchItemFailures: [{ itemIdentifier: record.messageId }] };
        if (kind === 'throws') throw new Error('boom');
        // Succeeds on its second delivery.
        if (record.attributes.ApproximateReceiveCount === '1') return { batchItemFailures: [{ itemIdentifier: record.messageId }] };
        return { batchItemFailures: [] };
      },
    });
    await queue.send({ kind: 'reported' });
    await queue.send({ kind: 'throws' });
    await queue.send({ kind: 'recovers' });
    await queue.idle();
    const countsOf = (kind: string) => receives.filter(([k]) => k === kind).map(([, count]) => count);
    expect(countsOf('reported')).toEqual(['1', '2', '3']);
    expect(countsOf('throws')).toEqual(['1', '2', '3']);
    expect(countsOf('recovers')).toEqual(['1', '2']);
    expect(dead.map((d) => [JSON.parse(d.body).kind, d.receiveCount])).toEqual(
      expect.arrayContaining([
        ['reported', 3],
        ['throws', 3],
      ]),
    );
    expect(dead).toHaveLength(2);
    expect(dead.find((d) => JSON.parse(d.body).kind === 'throws')!.reason).toBe('boom');
    await queue.stop();
  });

  it('once stopped, it sends nothing more and drops what waits for a redelivery', async () => {
    let calls = 0;
    const queue = new LocalImportQueue({
      redeliveryDelayMs: 60_000,
      handler: async (event) => {
        calls += 1;
        return { batchItemFailures: [{ itemIdentifier: event.Records[0].messageId }] };
      },
    });
    await queue.send({ a: 1 });
    await new Promise((r) => setTimeout(r, 10));
    await queue.stop();
    await queue.idle();
    expect(calls).toBe(1);
    await expect(queue.send({ a: 2 })).rejects.toThrow(/stopped/);
  });
});
