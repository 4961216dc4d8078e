import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as ecsPatterns from 'aws-cdk-lib/aws-ecs-patterns';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { connectionUrlsEntryPoint, URL_UNSAFE_CHARACTERS } from './connection-urls.js';
import { RedisCluster } from './redis-cluster.js';
import { stopTimeoutSeconds, type Settings } from './settings.js';

/** The database the migrations create the schema in. */
export const DATABASE_NAME = 'sluice';
/** The owner: runs the migrations, owns the tables. */
export const OWNER_DATABASE_USER = 'sluice_owner';
/** The restricted role the API and worker act as (`DATABASE_ROLE`). */
export const APP_DATABASE_ROLE = 'sluice_app';
/** BullMQ's key prefix in Redis (`QUEUE_PREFIX`); each stack has a Redis of its own. */
export const QUEUE_PREFIX = 'sluice';
/** The queue-depth metrics the worker publishes (QUEUE_METRICS_NAMESPACE) and scaling reads. */
export const QUEUE_METRIC_NAMES = { waiting: 'Waiting', active: 'Active', delayed: 'Delayed' } as const;
/** The port the API listens on in its container (`PORT`), behind the load balancer. */
export const API_PORT = 3000;

export interface SluiceStackProps extends StackProps {
  settings: Settings;
}

/**
 * Sluice on ECS Fargate: a VPC; RDS PostgreSQL and ElastiCache Redis in isolated subnets;
 * an S3 bucket for uploads; the API behind an Application Load Balancer (health check on
 * /ready?skip=storage); the worker scaled on the ingest queue's depth, which it publishes to
 * CloudWatch itself; and the migration as a task definition run once before each rollout.
 * Each task role may do only what its process does, on the uploads prefix only (the API may
 * also HeadBucket the bucket, for /ready).
 */
export class SluiceStack extends Stack {
  constructor(scope: Construct, id: string, props: SluiceStackProps) {
    super(scope, id, props);
    const s = props.settings;
    const stopTimeout = Duration.seconds(stopTimeoutSeconds(s.shutdownGraceMs));
    const retention = (days: number): logs.RetentionDays => {
      if (!(Object.values(logs.RetentionDays) as unknown[]).includes(days))
        throw new Error(`logRetentionDays: CloudWatch Logs has no retention of ${days} days`);
      return days;
    };

    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: s.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
    });
    const appSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
    const dataSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };

    // Data: PostgreSQL, Redis, the uploads bucket.
    const database = new rds.DatabaseInstance(this, 'Database', {
      engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_16 }),
      instanceType: new ec2.InstanceType(s.databaseInstanceClass),
      vpc,
      vpcSubnets: dataSubnets,
      multiAz: s.multiAz,
      databaseName: DATABASE_NAME,
      credentials: rds.Credentials.fromGeneratedSecret(OWNER_DATABASE_USER, {
        secretName: `${this.stackName}/database/owner`,
        excludeCharacters: URL_UNSAFE_CHARACTERS,
      }),
      storageEncrypted: true,
      storageType: rds.StorageType.GP3,
      allocatedStorage: s.databaseStorageGiB,
      maxAllocatedStorage: s.databaseStorageGiB * 4,
      backupRetention: Duration.days(s.databaseBackupDays),
      cloudwatchLogsExports: ['postgresql'],
      cloudwatchLogsRetention: retention(s.logRetentionDays),
      autoMinorVersionUpgrade: true,
      deletionProtection: s.retainData,
      removalPolicy: s.retainData ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
    });
    const ownerSecret = database.secret;
    if (ownerSecret === undefined) throw new Error('the database was created without its generated owner secret');
    const appDatabaseSecret = new secretsmanager.Secret(this, 'AppDatabaseSecret', {
      secretName: `${this.stackName}/database/app`,
      description: `Sluice API and worker: the PostgreSQL login of role ${APP_DATABASE_ROLE}`,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ username: APP_DATABASE_ROLE }),
        generateStringKey: 'password',
        excludePunctuation: true,
        passwordLength: 40,
      },
    });
    const redis = new RedisCluster(this, 'Redis', { vpc, subnets: dataSubnets, nodeType: s.redisNodeType, multiAz: s.multiAz });
    const uploads = new s3.Bucket(this, 'Uploads', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      lifecycleRules: [
        {
          // A job's file is kept this long after its upload, processed or not: long enough
          // to retry a failed job, short enough that the bucket does not grow for ever.
          id: 'expire-processed-uploads',
          prefix: `${s.uploadsPrefix}/`,
          expiration: Duration.days(s.uploadRetentionDays),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy: s.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    const uploadObjects = uploads.arnForObjects(`${s.uploadsPrefix}/*`);

    // What every Sluice container is told; the entry point builds the URLs from the parts.
    const cluster = new ecs.Cluster(this, 'Cluster', { vpc });
    const apiRepository = ecr.Repository.fromRepositoryName(this, 'ApiRepository', s.apiRepository);
    const workerRepository = ecr.Repository.fromRepositoryName(this, 'WorkerRepository', s.workerRepository);
    const apiImage = ecs.ContainerImage.fromEcrRepository(apiRepository, s.imageTag);
    const workerImage = ecs.ContainerImage.fromEcrRepository(workerRepository, s.imageTag);
    const migrationImage = ecs.ContainerImage.fromEcrRepository(workerRepository, s.migrationImageTag ?? s.imageTag);
    const databaseEnvironment = {
      DATABASE_HOST: database.instanceEndpoint.hostname,
      DATABASE_PORT: database.instanceEndpoint.port.toString(),
      DATABASE_NAME,
    };
    const databaseSecrets = (secret: secretsmanager.ISecret) => ({
      DATABASE_USER: ecs.Secret.fromSecretsManager(secret, 'username'),
      DATABASE_PASSWORD: ecs.Secret.fromSecretsManager(secret, 'password'),
    });
    const serviceEnvironment = {
      ...databaseEnvironment,
      NODE_ENV: 'production',
      DATABASE_ROLE: APP_DATABASE_ROLE,
      REDIS_HOST: redis.host,
      REDIS_PORT: redis.port,
      QUEUE_PREFIX,
      STORAGE: 's3',
      S3_BUCKET: uploads.bucketName,
      S3_PREFIX: s.uploadsPrefix,
      S3_REGION: this.region,
      SHUTDOWN_GRACE_MS: String(s.shutdownGraceMs),
    };
    const serviceSecrets = { ...databaseSecrets(appDatabaseSecret), REDIS_AUTH_TOKEN: ecs.Secret.fromSecretsManager(redis.authToken) };
    const logGroup = (name: string) =>
      new logs.LogGroup(this, `${name}Logs`, {
        logGroupName: `/sluice/${this.stackName}/${name.toLowerCase()}`,
        retention: retention(s.logRetentionDays),
        removalPolicy: s.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      });

    // The API: behind the load balancer, healthy when /ready?skip=storage says PostgreSQL and Redis answer.
    const apiTask = new ecs.FargateTaskDefinition(this, 'ApiTask', { cpu: s.apiCpu, memoryLimitMiB: s.apiMemoryMiB });
    apiTask.addContainer('api', {
      containerName: 'api',
      image: apiImage,
      entryPoint: connectionUrlsEntryPoint({ redis: true }),
      environment: { ...serviceEnvironment, PORT: String(API_PORT) },
      secrets: serviceSecrets,
      portMappings: [{ containerPort: API_PORT }],
      logging: ecs.LogDrivers.awsLogs({ logGroup: logGroup('Api'), streamPrefix: 'api' }),
      stopTimeout,
    });
    apiTask.addToTaskRolePolicy(
      new iam.PolicyStatement({
        sid: 'StreamUploadsIn',
        // Put (single or multipart), abort a rejected multipart upload, delete a truncated object.
        actions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObject'],
        resources: [uploadObjects],
      }),
    );
    apiTask.addToTaskRolePolicy(
      // GET /ready sends a HeadBucket, which S3 authorizes as s3:ListBucket on the bucket.
      new iam.PolicyStatement({ sid: 'CheckUploadsBucket', actions: ['s3:ListBucket'], resources: [uploads.bucketArn] }),
    );
    const certificate =
      s.certificateArn === undefined ? undefined : acm.Certificate.fromCertificateArn(this, 'Certificate', s.certificateArn);
    const api = new ecsPatterns.ApplicationLoadBalancedFargateService(this, 'Api', {
      cluster,
      taskDefinition: apiTask,
      taskSubnets: appSubnets,
      publicLoadBalancer: true,
      ...(certificate === undefined
        ? { protocol: elbv2.ApplicationProtocol.HTTP }
        : { protocol: elbv2.ApplicationProtocol.HTTPS, certificate, redirectHTTP: true, sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS }),
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
      healthCheckGracePeriod: Duration.seconds(60),
      // Large uploads stream for minutes; the connection is idle only when the client stalls.
      idleTimeout: Duration.seconds(300),
    });
    // PostgreSQL and Redis, not S3: a task failing this check is replaced, and replacing tasks
    // cannot cure an S3 outage that every task shares, while it would cut the reads they
    // still serve. /ready without the skip still checks the bucket, for people and deploys.
    api.targetGroup.configureHealthCheck({
      path: '/ready?skip=storage',
      healthyHttpCodes: '200',
      interval: Duration.seconds(15),
      timeout: Duration.seconds(5),
      healthyThresholdCount: 2,
      unhealthyThresholdCount: 3,
    });
    api.targetGroup.setAttribute('deregistration_delay.timeout_seconds', String(stopTimeout.toSeconds()));
    // Paused: no tasks at all (the first deploy, before the first migration). The pattern
    // refuses a desiredCount of 0, so it is set on the service resource itself.
    if (s.paused) (api.service.node.defaultChild as ecs.CfnService).desiredCount = 0;
    const apiScaling = api.service.autoScaleTaskCount(
      s.paused ? { minCapacity: 0, maxCapacity: 0 } : { minCapacity: s.apiCount, maxCapacity: s.apiCount * 4 },
    );
    apiScaling.scaleOnCpuUtilization('ApiCpu', { targetUtilizationPercent: 60 });

    // The worker: no port; stops on SIGTERM after the batches in hand commit.
    const queueMetricsNamespace = `Sluice/${this.stackName}`;
    const workerTask = new ecs.FargateTaskDefinition(this, 'WorkerTask', { cpu: s.workerCpu, memoryLimitMiB: s.workerMemoryMiB });
    workerTask.addContainer('worker', {
      containerName: 'worker',
      image: workerImage,
      entryPoint: connectionUrlsEntryPoint({ redis: true }),
      environment: {
        ...serviceEnvironment,
        WORKER_CONCURRENCY: String(s.workerConcurrency),
        QUEUE_METRICS_NAMESPACE: queueMetricsNamespace,
        QUEUE_METRICS_INTERVAL_MS: String(s.queueMetricsIntervalMs),
      },
      secrets: serviceSecrets,
      logging: ecs.LogDrivers.awsLogs({ logGroup: logGroup('Worker'), streamPrefix: 'worker' }),
      stopTimeout,
    });
    workerTask.addToTaskRolePolicy(
      new iam.PolicyStatement({ sid: 'ReadAndRemoveUploads', actions: ['s3:GetObject', 's3:DeleteObject'], resources: [uploadObjects] }),
    );
    workerTask.addToTaskRolePolicy(
      new iam.PolicyStatement({
        sid: 'PublishQueueDepth',
        // PutMetricData has no resource to name; the namespace condition is its scope.
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': queueMetricsNamespace } },
      }),
    );
    const worker = new ecs.FargateService(this, 'Worker', {
      cluster,
      taskDefinition: workerTask,
      vpcSubnets: appSubnets,
      ...(s.paused ? { desiredCount: 0 } : {}),
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
    });

    // Scaling on the queue: out while jobs wait, in (one task at a time) once nothing waits
    // or runs for ten minutes. Every worker publishes the same queue-wide figures, so the
    // alarms read their Maximum. The floor is one task: it is also the publisher.
    const queueMetric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: queueMetricsNamespace,
        metricName,
        dimensionsMap: { Queue: `${QUEUE_PREFIX}:ingest` },
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.minutes(1),
      });
    const waiting = queueMetric(QUEUE_METRIC_NAMES.waiting);
    const workerScaling = worker.autoScaleTaskCount(
      s.paused ? { minCapacity: 0, maxCapacity: 0 } : { minCapacity: s.workerMin, maxCapacity: s.workerMax },
    );
    const perTask = s.workerConcurrency;
    workerScaling.scaleOnMetric('ScaleOutOnWaitingJobs', {
      metric: waiting,
      adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
      scalingSteps: [
        { upper: 1, change: 0 },
        { lower: 1, change: +1 },
        { lower: 4 * perTask, change: +2 },
        { lower: 16 * perTask, change: +5 },
      ],
      evaluationPeriods: 1,
      cooldown: Duration.minutes(2),
    });
    workerScaling.scaleOnMetric('ScaleInWhenIdle', {
      metric: new cloudwatch.MathExpression({
        expression: 'waiting + active',
        usingMetrics: { waiting, active: queueMetric(QUEUE_METRIC_NAMES.active) },
        period: Duration.minutes(1),
        label: 'ingest jobs waiting or running',
      }),
      adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
      scalingSteps: [
        { upper: 0, change: -1 },
        { lower: 1, change: 0 },
      ],
      evaluationPeriods: 10,
      datapointsToAlarm: 10,
      cooldown: Duration.minutes(5),
    });

    // The migration: a one-off task as the schema's owner, run before each rollout.
    const migrateTask = new ecs.FargateTaskDefinition(this, 'MigrateTask', {
      cpu: 256,
      memoryLimitMiB: 512,
      family: `${this.stackName}-migrate`,
    });
    migrateTask.addContainer('migrate', {
      containerName: 'migrate',
      image: migrationImage,
      entryPoint: connectionUrlsEntryPoint({ redis: false }),
      command: ['node', '--enable-source-maps', 'apps/cli/dist/migrate.js'],
      environment: { ...databaseEnvironment, NODE_ENV: 'production' },
      // The app role's password too: `infra/migrate.sh --grant-app-login` sets it on the role.
      secrets: { ...databaseSecrets(ownerSecret), APP_DATABASE_PASSWORD: ecs.Secret.fromSecretsManager(appDatabaseSecret, 'password') },
      logging: ecs.LogDrivers.awsLogs({ logGroup: logGroup('Migrate'), streamPrefix: 'migrate' }),
    });
    const migrateSecurityGroup = new ec2.SecurityGroup(this, 'MigrateSecurityGroup', { vpc, description: 'Sluice migration task' });

    for (const peer of [api.service, worker, migrateSecurityGroup]) database.connections.allowDefaultPortFrom(peer);
    for (const peer of [api.service, worker]) redis.connections.allowDefaultPortFrom(peer);

    const output = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    output(
      'ApiUrl',
      `${certificate === undefined ? 'http' : 'https'}://${api.loadBalancer.loadBalancerDnsName}`,
      'the API, behind the load balancer',
    );
    output('ClusterName', cluster.clusterName, 'the ECS cluster');
    output('ImageTag', s.imageTag, 'the image tag the API and worker run');
    output('MigrationImageTag', s.migrationImageTag ?? s.imageTag, 'the image tag the migration task runs');
    output('ApiServiceName', api.service.serviceName, 'the API service');
    output('WorkerServiceName', worker.serviceName, 'the worker service');
    output('MigrateTaskDefinition', migrateTask.family, 'run once before each rollout (aws ecs run-task)');
    output('MigrateSecurityGroupId', migrateSecurityGroup.securityGroupId, 'the migration task security group');
    output('AppSubnets', vpc.selectSubnets(appSubnets).subnetIds.join(','), 'private subnets for one-off tasks');
    output('LogGroups', `/sluice/${this.stackName}/{api,worker,migrate}`, 'where each process logs');
    output('UploadsBucket', uploads.bucketName, 'where uploads are kept until processed');
    output('OwnerSecretArn', ownerSecret.secretArn, 'PostgreSQL owner credentials (migrations)');
    output('AppSecretArn', appDatabaseSecret.secretArn, `PostgreSQL credentials of ${APP_DATABASE_ROLE} (API and worker)`);
    output('QueueMetricsNamespace', queueMetricsNamespace, 'CloudWatch namespace of the queue-depth metrics');
  }
}
