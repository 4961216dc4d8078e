import type { App, Environment } from 'aws-cdk-lib';
import { ImagesStack } from './images-stack.js';
import { readSettings, SETTING_NAMES } from './settings.js';
import { SluiceStack } from './sluice-stack.js';

/** The stacks' names: `cdk deploy SluiceImages`, then `cdk deploy Sluice`. */
export const STACK_NAMES = { images: 'SluiceImages', service: 'Sluice' } as const;

/**
 * Builds Sluice's CDK app from its context (`-c imageTag=…` and the other settings). The
 * stacks are environment-agnostic unless `env` is given: nothing is looked up in an AWS
 * account at synth time, so `cdk synth` works offline and in CI.
 */
export function createSluiceApp(app: App, env?: Environment): { images: ImagesStack; service: SluiceStack } {
  const context = Object.fromEntries(SETTING_NAMES.map((name) => [name, app.node.tryGetContext(name) as unknown]));
  const settings = readSettings(context);
  const images = new ImagesStack(app, STACK_NAMES.images, {
    env,
    description: 'Sluice: the ECR repositories of the API and worker images',
    apiRepository: settings.apiRepository,
    workerRepository: settings.workerRepository,
  });
  const service = new SluiceStack(app, STACK_NAMES.service, { env, description: 'Sluice on ECS Fargate', settings });
  return { images, service };
}
