import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { AnyRoute } from '../../functions/http/route.js';
import { allRoutes } from '../../functions/http/route-table.js';
import { BillowStack } from '../../lib/billow-stack.js';

/** Fixed environment so ARNs and the issuer URL resolve the same way in every run. */
export const TEST_ENV = { account: '123456789012', region: 'eu-west-1' };

/**
 * A fresh app that never runs esbuild (infra tests read the template, not the bundles) and that throws on
 * validation failures (cdk-nag) instead of only printing them.
 */
export function testApp(context: Record<string, string> = {}): App {
  return new App({ context: { 'aws:cdk:bundling-stacks': [], '@aws-cdk/core:appMode': 'inmemory', ...context } });
}

export function buildStack(app: App = testApp(), routes: readonly AnyRoute[] = allRoutes): { app: App; stack: BillowStack } {
  const stack = new BillowStack(app, 'Billow', { env: TEST_ENV, routes });
  return { app, stack };
}

/** The stack as `cdk synth` builds it with these context values (`-c mailDomain=… -c gateway=stripe`). */
export function buildTemplate(context: Record<string, string> = {}): { stack: BillowStack; template: Template } {
  const { stack } = buildStack(testApp(context));
  return { stack, template: Template.fromStack(stack) };
}

export interface Resource {
  Type: string;
  Properties: Record<string, any>;
  [key: string]: unknown;
}

/** One (action, resource) pair of an IAM policy statement, the resource as stable JSON. */
export interface Grant {
  action: string;
  resource: string;
}

/** Every Allow pair of the inline policies attached to a role (statement merging does not matter). */
export function grantsOfRole(template: Template, roleLogicalId: string): Grant[] {
  const policies = template.findResources('AWS::IAM::Policy') as Record<string, Resource>;
  const grants: Grant[] = [];
  for (const policy of Object.values(policies)) {
    const roles = (policy.Properties.Roles ?? []) as unknown[];
    if (!roles.some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleLogicalId }))) continue;
    for (const statement of policy.Properties.PolicyDocument.Statement as Array<Record<string, any>>) {
      if (statement.Effect !== 'Allow') throw new Error(`Unexpected ${statement.Effect} statement`);
      const actions = ([] as string[]).concat(statement.Action);
      const resources = ([] as unknown[]).concat(statement.Resource);
      for (const action of actions) for (const resource of resources) grants.push({ action, resource: JSON.stringify(resource) });
    }
  }
  return grants;
}

export const json = (value: unknown) => JSON.stringify(value);
