import { describe, expect, it } from 'vitest';
import { Stack, Validations } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildStack, testApp } from '../support/cdk.js';

/** Synthesises the app with the AwsSolutions pack; returns the validation failure text, or '' when clean. */
function nagFindings(app: ReturnType<typeof testApp>): string {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  try {
    app.synth({ force: true });
    return '';
  } catch (error) {
    return (error as Error).message;
  }
}

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged finding for the Billow stack', () => {
    const { app } = buildStack();
    const findings = nagFindings(app);
    expect(findings, findings).toBe('');
  });

  it('reports no unacknowledged finding when deployed with the Stripe gateway and a mail domain', () => {
    const { app } = buildStack(testApp({ gateway: 'stripe', mailDomain: 'mail.acme.test', appUrl: 'https://app.acme.test' }));
    const findings = nagFindings(app);
    expect(findings, findings).toBe('');
  });

  it('every acknowledgement in the stack names a rule and gives a specific reason', () => {
    const { stack } = buildStack(testApp({ gateway: 'stripe' }));
    const acknowledged: Array<[string, string]> = [];
    for (const construct of stack.node.findAll()) {
      for (const entry of construct.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [rule, reason] of Object.entries(entry.data as Record<string, string>)) acknowledged.push([rule, reason]);
      }
    }
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const [rule, reason] of acknowledged) {
      expect(rule).toMatch(/AwsSolutions-[A-Z]+\d+/);
      expect(reason.length, rule).toBeGreaterThan(40);
    }
  });

  it('is not vacuous: an unacknowledged finding fails synthesis', () => {
    const app = testApp();
    const stack = new Stack(app, 'Bad');
    new secretsmanager.Secret(stack, 'Secret');
    expect(nagFindings(app)).toContain('AwsSolutions-SMG4');
  });
});
