import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { tracer } from '../../observability/tracer.js';
import { injectFaultsInto } from '../../faults/sdk.js';
import type { ImportQueue } from './port.js';

let sharedClient: SQSClient | undefined;

function defaultClient(): SQSClient {
  sharedClient ??= tracer.captureAWSv3Client(injectFaultsInto(new SQSClient({}), 'sqs'));
  return sharedClient;
}

/** The imports queue on SQS. */
export class SqsImportQueue implements ImportQueue {
  constructor(
    private readonly queueUrl: string,
    private readonly client: () => SQSClient = defaultClient,
  ) {}

  async send(body: object): Promise<void> {
    await this.client().send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(body) }));
  }
}
