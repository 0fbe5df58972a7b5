import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { allRoutes } from '../functions/http/route-table.js';
import { BillowStack } from '../lib/billow-stack.js';

const app = new App();
new BillowStack(app, 'Billow', {
  description: 'Billow: client management and billing backend',
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  routes: allRoutes,
});
// Every AwsSolutions finding fails synth unless acknowledged, with its reason, next to the resource.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
