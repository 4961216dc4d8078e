import { App } from 'aws-cdk-lib';
import { createSluiceApp } from './sluice-app.js';

// The CDK app's entry point (cdk.json "app"): the CLI passes the context and output folder.
const app = new App();
createSluiceApp(app);
app.synth();
