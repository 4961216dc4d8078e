import { App } from 'aws-cdk-lib';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createSluiceApp } from './sluice-app.js';

// Synthesizes the stacks without the CDK CLI, an AWS account or Docker (CI's check that the
// app builds): `node dist/synth.js [setting=value …]`, into cdk.out, with cdk.json's context
// as the CLI would use it. Prints what it made.
const started = performance.now();
const cdkJson = JSON.parse(readFileSync('cdk.json', 'utf8')) as { context?: Record<string, unknown> };
const context: Record<string, unknown> = { imageTag: 'synth-check', ...cdkJson.context };
for (const arg of process.argv.slice(2)) {
  const at = arg.indexOf('=');
  if (at < 1) throw new Error(`expected setting=value, got "${arg}"`);
  context[arg.slice(0, at)] = arg.slice(at + 1);
}
const app = new App({ outdir: 'cdk.out', context });
createSluiceApp(app);
const assembly = app.synth();
for (const stack of assembly.stacks) {
  const resources = Object.keys((stack.template as { Resources?: object }).Resources ?? {}).length;
  console.log(`${stack.stackName}: ${resources} resources -> ${stack.templateFullPath}`);
}
console.log(`synthesized in ${((performance.now() - started) / 1000).toFixed(1)} s`);
