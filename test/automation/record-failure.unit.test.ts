import { describe, expect, it } from 'vitest';
import { messageOf } from '../../functions/automation/record-failure.js';

describe('messageOf (what a run records of a task that kept failing)', () => {
  it("takes a Lambda error's message from the JSON cause Step Functions passes, else the cause, else the error name", () => {
    expect(messageOf({ Error: 'Error', Cause: JSON.stringify({ errorType: 'Error', errorMessage: 'index query failed', trace: [] }) })).toBe(
      'index query failed',
    );
    expect(messageOf({ Error: 'States.Timeout', Cause: 'Task timed out after 300 seconds' })).toBe('Task timed out after 300 seconds');
    expect(messageOf({ Error: 'Lambda.ServiceException' })).toBe('Lambda.ServiceException');
    expect(messageOf({})).toBe('The task failed.');
    expect(messageOf({ Cause: 'x'.repeat(5000) })).toHaveLength(1000);
  });
});
