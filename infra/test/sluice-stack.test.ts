import { loadConfig } from '@sluice/config';
import { QUEUE_DEPTH_METRICS } from '@sluice/ingest';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { createSluiceApp } from '../src/sluice-app.js';
import { QUEUE_METRIC_NAMES } from '../src/sluice-stack.js';

type Resource = { Type: string; Properties: Record<string, any> };

function synth(context: Record<string, unknown> = {}): { template: Template; images: Template } {
  const app = new App({ context: { imageTag: 'v1.2.3', ...context } });
  const { service, images } = createSluiceApp(app);
  return { template: Template.fromStack(service), images: Template.fromStack(images) };
}

function only(template: Template, type: string, props: Record<string, unknown> = {}): [string, Resource] {
  const found = Object.entries(template.findResources(type, props ? { Properties: props } : undefined)) as [string, Resource][];
  expect(found).toHaveLength(1);
  return found[0]!;
}

function container(template: Template, name: string): Record<string, any> {
  const [, task] = only(template, 'AWS::ECS::TaskDefinition', { ContainerDefinitions: [Match.objectLike({ Name: name })] });
  return task.Properties.ContainerDefinitions[0];
}

/** Every statement of the policies attached to the role that task definition runs as. */
function taskRoleStatements(template: Template, containerName: string): Record<string, any>[] {
  const [, task] = only(template, 'AWS::ECS::TaskDefinition', { ContainerDefinitions: [Match.objectLike({ Name: containerName })] });
  const roleId = task.Properties.TaskRoleArn['Fn::GetAtt'][0] as string;
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Resource[];
  return policies
    .filter((p) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

const env = (c: Record<string, any>) => Object.fromEntries(c.Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]));
const secretNames = (c: Record<string, any>) => c.Secrets.map((s: { Name: string }) => s.Name).sort();
const uploadsPrefixArn = { 'Fn::Join': ['', [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^Uploads'), 'Arn'] }, '/uploads/*']] };
const uploadsBucketArn = { 'Fn::GetAtt': [Match.stringLikeRegexp('^Uploads'), 'Arn'] };

describe('the Sluice stack, synthesized with the default settings', () => {
  let template: Template;
  let images: Template;
  beforeAll(() => {
    ({ template, images } = synth());
  });

  test('the worker scales out on the waiting-jobs metric it publishes, and in when the queue is idle', () => {
    expect(QUEUE_METRIC_NAMES).toStrictEqual(QUEUE_DEPTH_METRICS);
    const [targetId] = only(template, 'AWS::ApplicationAutoScaling::ScalableTarget', {
      ScalableDimension: 'ecs:service:DesiredCount',
      ResourceId: { 'Fn::Join': ['', Match.arrayWith([Match.objectLike({ 'Fn::GetAtt': [Match.stringLikeRegexp('^Worker'), 'Name'] })])] },
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 1, MaxCapacity: 10 });
    const [outPolicy] = only(template, 'AWS::ApplicationAutoScaling::ScalingPolicy', {
      ScalingTargetId: { Ref: targetId },
      StepScalingPolicyConfiguration: Match.objectLike({
        AdjustmentType: 'ChangeInCapacity',
        MetricAggregationType: 'Maximum',
        StepAdjustments: [
          { MetricIntervalLowerBound: 0, MetricIntervalUpperBound: 7, ScalingAdjustment: 1 },
          { MetricIntervalLowerBound: 7, MetricIntervalUpperBound: 31, ScalingAdjustment: 2 },
          { MetricIntervalLowerBound: 31, ScalingAdjustment: 5 },
        ],
      }),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [{ Ref: outPolicy }],
      Namespace: 'Sluice/Sluice',
      MetricName: QUEUE_DEPTH_METRICS.waiting,
      Dimensions: [{ Name: 'Queue', Value: 'sluice:ingest' }],
      Statistic: 'Maximum',
      Period: 60,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
    });
    const [inPolicy] = only(template, 'AWS::ApplicationAutoScaling::ScalingPolicy', {
      ScalingTargetId: { Ref: targetId },
      StepScalingPolicyConfiguration: Match.objectLike({ StepAdjustments: [{ MetricIntervalUpperBound: 0, ScalingAdjustment: -1 }] }),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [{ Ref: inPolicy }],
      ComparisonOperator: 'LessThanOrEqualToThreshold',
      Threshold: 0,
      EvaluationPeriods: 10,
      DatapointsToAlarm: 10,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'waiting + active', ReturnData: true }),
        Match.objectLike({
          Id: 'active',
          MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: QUEUE_DEPTH_METRICS.active }) }),
        }),
      ]),
    });
    // The publisher is told where to publish, and may publish there only.
    expect(env(container(template, 'worker'))).toMatchObject({
      QUEUE_METRICS_NAMESPACE: 'Sluice/Sluice',
      QUEUE_METRICS_INTERVAL_MS: '60000',
      QUEUE_PREFIX: 'sluice',
    });
  });

  test('the API task may put, abort and delete uploads under the prefix, HeadBucket the bucket, and nothing else', () => {
    expect(taskRoleStatements(template, 'api')).toEqual([
      {
        Sid: 'StreamUploadsIn',
        Effect: 'Allow',
        Action: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObject'],
        Resource: expect.anything(),
      },
      { Sid: 'CheckUploadsBucket', Effect: 'Allow', Action: 's3:ListBucket', Resource: expect.anything() },
    ]);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          Match.objectLike({ Sid: 'StreamUploadsIn', Resource: uploadsPrefixArn }),
          Match.objectLike({ Sid: 'CheckUploadsBucket', Resource: uploadsBucketArn }),
        ],
        Version: '2012-10-17',
      },
    });
  });

  test('the worker task may get and delete uploads under the prefix, and publish its own metrics namespace', () => {
    const statements = taskRoleStatements(template, 'worker');
    expect(statements.map((s) => [s.Sid, s.Action])).toStrictEqual([
      ['ReadAndRemoveUploads', ['s3:GetObject', 's3:DeleteObject']],
      ['PublishQueueDepth', 'cloudwatch:PutMetricData'],
    ]);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [Match.objectLike({ Sid: 'ReadAndRemoveUploads', Resource: uploadsPrefixArn }), Match.anyValue()],
        Version: '2012-10-17',
      },
    });
    // PutMetricData names no resource; the only "*" is that one, held to the namespace.
    const wildcards = statements.filter((s) => s.Resource === '*');
    expect(wildcards).toStrictEqual([
      expect.objectContaining({
        Action: 'cloudwatch:PutMetricData',
        Condition: { StringEquals: { 'cloudwatch:namespace': 'Sluice/Sluice' } },
      }),
    ]);
    expect(taskRoleStatements(template, 'migrate')).toStrictEqual([]);
  });

  test('the load balancer checks the API on /ready, S3 left out', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      HealthCheckPath: '/ready?skip=storage',
      Matcher: { HttpCode: '200' },
      Port: 80,
      TargetType: 'ip',
      TargetGroupAttributes: Match.arrayWith([{ Key: 'deregistration_delay.timeout_seconds', Value: '30' }]),
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Protocol: 'HTTP', Port: 80 });
    expect(container(template, 'api').PortMappings).toStrictEqual([{ ContainerPort: 3000, Protocol: 'tcp' }]);
  });

  test('Redis never evicts, and is encrypted at rest and in transit behind an AUTH token', () => {
    const [groupId] = only(template, 'AWS::ElastiCache::ParameterGroup', { Properties: { 'maxmemory-policy': 'noeviction' } });
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      CacheParameterGroupName: { Ref: groupId },
      Engine: 'redis',
      AtRestEncryptionEnabled: true,
      TransitEncryptionEnabled: true,
      TransitEncryptionMode: 'required',
      AuthToken: Match.anyValue(),
      NumCacheClusters: 1,
    });
  });

  test('storage is encrypted: the bucket (private, TLS only, uploads expire), the database', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: {
        Rules: [
          {
            Id: 'expire-processed-uploads',
            Prefix: 'uploads/',
            ExpirationInDays: 7,
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
            Status: 'Enabled',
          },
        ],
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      }),
    });
    template.hasResourceProperties('AWS::RDS::DBInstance', {
      StorageEncrypted: true,
      MultiAZ: false,
      DeletionProtection: true,
      DBName: 'sluice',
    });
    template.hasResource('AWS::RDS::DBInstance', { DeletionPolicy: 'Snapshot' });
  });

  test('every log group keeps its logs 30 days, and every container logs to one', () => {
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup')) as Resource[];
    expect(groups.map((g) => g.Properties.RetentionInDays)).toStrictEqual([30, 30, 30]);
    template.hasResourceProperties('Custom::LogRetention', { LogGroupName: Match.anyValue(), RetentionInDays: 30 });
    for (const name of ['api', 'worker', 'migrate']) {
      expect(container(template, name).LogConfiguration).toMatchObject({
        LogDriver: 'awslogs',
        Options: { 'awslogs-stream-prefix': name },
      });
    }
  });

  test("the containers stop after the app's own shutdown grace, with a margin", () => {
    const grace = loadConfig({}).worker.shutdownGraceMs;
    for (const name of ['api', 'worker']) {
      const c = container(template, name);
      expect(env(c).SHUTDOWN_GRACE_MS).toBe(String(grace));
      expect(c.StopTimeout).toBe(grace / 1000 + 5);
    }
  });

  test('the API and worker run as the app role, on S3, with their secrets from Secrets Manager', () => {
    for (const name of ['api', 'worker']) {
      const c = container(template, name);
      expect(env(c)).toMatchObject({
        NODE_ENV: 'production',
        DATABASE_ROLE: 'sluice_app',
        DATABASE_NAME: 'sluice',
        STORAGE: 's3',
        S3_BUCKET: { Ref: expect.stringMatching(/^Uploads/) },
        S3_PREFIX: 'uploads',
        S3_REGION: { Ref: 'AWS::Region' },
      });
      expect(secretNames(c)).toStrictEqual(['DATABASE_PASSWORD', 'DATABASE_USER', 'REDIS_AUTH_TOKEN']);
      expect(c.Secrets.find((s: { Name: string }) => s.Name === 'DATABASE_PASSWORD').ValueFrom['Fn::Join'][1][0]).toStrictEqual({
        Ref: expect.stringMatching(/^AppDatabaseSecret/),
      });
      expect(JSON.stringify(c.Image)).toContain(`/sluice-${name}:v1.2.3`);
      expect(c.EntryPoint[0]).toBe('/bin/sh');
      expect(c.Command).toBeUndefined(); // the image's own CMD runs
    }
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'Sluice/database/app',
      GenerateSecretString: Match.objectLike({ SecretStringTemplate: '{"username":"sluice_app"}', ExcludePunctuation: true }),
    });
  });

  test('the migration is a task definition of its own: the worker image, as the owner, reaching the database', () => {
    const c = container(template, 'migrate');
    template.hasResourceProperties('AWS::ECS::TaskDefinition', { Family: 'Sluice-migrate', RequiresCompatibilities: ['FARGATE'] });
    expect(c.Command).toStrictEqual(['node', '--enable-source-maps', 'apps/cli/dist/migrate.js']);
    expect(JSON.stringify(c.Image)).toContain('/sluice-worker:v1.2.3');
    expect(secretNames(c)).toStrictEqual(['APP_DATABASE_PASSWORD', 'DATABASE_PASSWORD', 'DATABASE_USER']);
    const secretOf = (name: string) => c.Secrets.find((s: { Name: string }) => s.Name === name).ValueFrom['Fn::Join'][1];
    expect(secretOf('DATABASE_USER')).toStrictEqual([{ Ref: expect.stringMatching(/^DatabaseSecretAttachment/) }, ':username::']);
    expect(secretOf('DATABASE_PASSWORD')).toStrictEqual([{ Ref: expect.stringMatching(/^DatabaseSecretAttachment/) }, ':password::']);
    expect(secretOf('APP_DATABASE_PASSWORD')).toStrictEqual([{ Ref: expect.stringMatching(/^AppDatabaseSecret/) }, ':password::']);
    expect(env(c).DATABASE_ROLE).toBeUndefined();
    // No service runs it: it is started by hand (or by CI) with `aws ecs run-task`.
    const services = Object.values(template.findResources('AWS::ECS::Service')) as Resource[];
    expect(services.map((s) => JSON.stringify(s.Properties.TaskDefinition))).not.toContainEqual(expect.stringContaining('MigrateTask'));
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Database'), 'Endpoint.Port'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^MigrateSecurityGroup'), 'GroupId'] },
    });
    template.hasOutput('MigrateTaskDefinition', { Value: 'Sluice-migrate' });
  });

  test('deployments roll back on failure; PostgreSQL and Redis sit in isolated subnets', () => {
    const services = Object.values(template.findResources('AWS::ECS::Service')) as Resource[];
    expect(services.map((s) => s.Properties.DeploymentConfiguration)).toMatchObject([
      { DeploymentCircuitBreaker: { Enable: true, Rollback: true }, MaximumPercent: 200, MinimumHealthyPercent: 100 },
      { DeploymentCircuitBreaker: { Enable: true, Rollback: true }, MaximumPercent: 200, MinimumHealthyPercent: 100 },
    ]);
    const isolated = Object.keys(
      template.findResources('AWS::EC2::Subnet', {
        Properties: { Tags: Match.arrayWith([{ Key: 'aws-cdk:subnet-type', Value: 'Isolated' }]) },
      }),
    );
    expect(isolated).toHaveLength(2);
    template.hasResourceProperties('AWS::RDS::DBSubnetGroup', { SubnetIds: isolated.map((id) => ({ Ref: id })) });
    template.hasResourceProperties('AWS::ElastiCache::SubnetGroup', { SubnetIds: isolated.map((id) => ({ Ref: id })) });
  });

  test('the images stack holds the two repositories, immutable tags, scanned on push', () => {
    images.resourceCountIs('AWS::ECR::Repository', 2);
    for (const name of ['sluice-api', 'sluice-worker']) {
      images.hasResourceProperties('AWS::ECR::Repository', {
        RepositoryName: name,
        ImageTagMutability: 'IMMUTABLE',
        ImageScanningConfiguration: { ScanOnPush: true },
      });
    }
  });
});

describe('the Sluice stack, with settings', () => {
  test('multiAz puts a standby database and a Redis replica in a second zone', () => {
    const { template } = synth({ multiAz: 'true' });
    template.hasResourceProperties('AWS::RDS::DBInstance', { MultiAZ: true });
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      NumCacheClusters: 2,
      MultiAZEnabled: true,
      AutomaticFailoverEnabled: true,
    });
  });

  test('a longer shutdown grace lengthens the stop timeout; retention, prefix and capacity follow their settings', () => {
    const { template } = synth({
      shutdownGraceMs: '60000',
      logRetentionDays: '90',
      uploadsPrefix: 'incoming',
      workerMin: '2',
      workerMax: '4',
    });
    const worker = container(template, 'worker');
    expect([env(worker).SHUTDOWN_GRACE_MS, worker.StopTimeout]).toStrictEqual(['60000', 65]);
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup')) as Resource[];
    expect(new Set(groups.map((g) => g.Properties.RetentionInDays))).toStrictEqual(new Set([90]));
    expect(env(worker).S3_PREFIX).toBe('incoming');
    expect(JSON.stringify(taskRoleStatements(template, 'worker')[0]?.Resource)).toContain('/incoming/*');
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 2, MaxCapacity: 4 });
  });

  test('paused runs no API or worker task; a migration image tag moves the migration alone', () => {
    const { template } = synth({ paused: 'true', migrationImageTag: 'v1.3.0' });
    const services = Object.values(template.findResources('AWS::ECS::Service')) as Resource[];
    expect(services.map((s) => s.Properties.DesiredCount)).toStrictEqual([0, 0]);
    const targets = Object.values(template.findResources('AWS::ApplicationAutoScaling::ScalableTarget')) as Resource[];
    expect(targets.map((s) => [s.Properties.MinCapacity, s.Properties.MaxCapacity])).toStrictEqual([
      [0, 0],
      [0, 0],
    ]);
    expect(JSON.stringify(container(template, 'migrate').Image)).toContain('/sluice-worker:v1.3.0');
    expect(JSON.stringify(container(template, 'worker').Image)).toContain('/sluice-worker:v1.2.3');
    expect(JSON.stringify(container(template, 'api').Image)).toContain('/sluice-api:v1.2.3');
  });

  test('a certificate turns on HTTPS and redirects HTTP to it', () => {
    const { template } = synth({ certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc' });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Protocol: 'HTTPS', Port: 443 });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Protocol: 'HTTP',
      DefaultActions: [Match.objectLike({ Type: 'redirect' })],
    });
  });

  test.each([
    [{ imageTag: undefined }, /imageTag: /],
    [{ imageTag: 'latest tag' }, /imageTag: an image tag/],
    [{ shutdownGraceMs: '116000' }, /shutdownGraceMs: /],
    [{ workerMin: '5', workerMax: '2' }, /workerMax: must be at least workerMin/],
    [{ multiAz: 'yes' }, /multiAz: true or false/],
    [{ logRetentionDays: '4' }, /no retention of 4 days/],
  ])('%j is refused with a message naming the setting', (context, message) => {
    expect(() => synth(context)).toThrow(message);
  });
});
