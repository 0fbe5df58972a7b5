import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CfnFunction } from 'aws-cdk-lib/aws-lambda';
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
  return new App({ context: { 'aws:cdk:bundling-stacks': [], '@aws-cdk/core:appMode': 'inmemory', gateway: 'simulator', ...context } });
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

/** A Lambda function of the synthesised stack and the bundle it runs. */
export interface SynthesisedFunction {
  /** Its construct path under the stack (`Api/BillingFunction`, `Identity/VerifyAuthChallenge`). */
  path: string;
  /** The export of `index.mjs` it runs (`handler`, `verifyAuthChallenge`). */
  exportName: string;
  /** The asset folder in the cloud assembly: `index.mjs` and everything shipped with it. */
  assetDir: string;
}

/**
 * The stack as `cdk synth` builds it, esbuild bundling included (tens of seconds), into `outdir`; with every
 * Lambda function of the template and the asset folder its code is uploaded from.
 */
export function synthBundled(outdir: string): { stack: BillowStack; functions: SynthesisedFunction[] } {
  const app = new App({ outdir, context: { gateway: 'simulator' } });
  const stack = new BillowStack(app, 'Billow', { env: TEST_ENV, routes: allRoutes });
  const assembly = app.synth();
  const folderOfObject = new Map<string, string>();
  for (const file of readdirSync(assembly.directory).filter((name) => name.endsWith('.assets.json'))) {
    const manifest = JSON.parse(readFileSync(join(assembly.directory, file), 'utf8')) as {
      files?: Record<string, { source: { path: string }; destinations: Record<string, { objectKey: string }> }>;
    };
    for (const asset of Object.values(manifest.files ?? {})) {
      for (const destination of Object.values(asset.destinations)) folderOfObject.set(destination.objectKey, join(assembly.directory, asset.source.path));
    }
  }
  const template = JSON.parse(readFileSync(join(assembly.directory, stack.templateFile), 'utf8')) as { Resources: Record<string, Resource> };
  const constructOf = new Map(
    stack.node
      .findAll()
      .filter((c): c is CfnFunction => c instanceof CfnFunction)
      .map((c) => [stack.getLogicalId(c), c]),
  );
  const functions = Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
    .map(([logicalId, resource]): SynthesisedFunction => {
      const construct = constructOf.get(logicalId);
      const objectKey = resource.Properties.Code?.S3Key;
      const assetDir = typeof objectKey === 'string' ? folderOfObject.get(objectKey) : undefined;
      const [file, exportName] = String(resource.Properties.Handler).split('.');
      if (!construct || !assetDir || file !== 'index') throw new Error(`Lambda function ${logicalId} runs no bundled index.mjs`);
      const scope = construct.node.scope!;
      return { path: scope.node.path.slice(Stack.of(scope).node.path.length + 1), exportName, assetDir };
    });
  return { stack, functions };
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
