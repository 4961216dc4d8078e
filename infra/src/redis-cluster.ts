import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export const REDIS_PORT = 6379;

export interface RedisClusterProps {
  vpc: ec2.IVpc;
  subnets: ec2.SubnetSelection;
  nodeType: string;
  /** A replica in a second zone with automatic failover. */
  multiAz: boolean;
}

/**
 * ElastiCache Redis for BullMQ: `maxmemory-policy noeviction` (an evicted key is a lost job),
 * encrypted at rest and in transit (clients connect with `rediss://`), with an AUTH token
 * kept in Secrets Manager. Reached only from the security groups given `connections` access.
 */
export class RedisCluster extends Construct {
  readonly connections: ec2.Connections;
  readonly authToken: secretsmanager.Secret;
  readonly host: string;
  readonly port: string;

  constructor(scope: Construct, id: string, props: RedisClusterProps) {
    super(scope, id);
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Sluice Redis: reachable from the API and the worker only',
      allowAllOutbound: false,
    });
    this.connections = new ec2.Connections({ securityGroups: [securityGroup], defaultPort: ec2.Port.tcp(REDIS_PORT) });
    const subnetGroup = new elasticache.CfnSubnetGroup(this, 'Subnets', {
      description: 'Sluice Redis subnets',
      subnetIds: props.vpc.selectSubnets(props.subnets).subnetIds,
    });
    const parameters = new elasticache.CfnParameterGroup(this, 'Parameters', {
      cacheParameterGroupFamily: 'redis7',
      description: 'Sluice: BullMQ needs a Redis that never evicts keys',
      properties: { 'maxmemory-policy': 'noeviction' },
    });
    this.authToken = new secretsmanager.Secret(this, 'AuthToken', {
      description: 'Sluice Redis AUTH token',
      // Letters and digits only: the token goes into a rediss:// URL unescaped.
      generateSecretString: { excludePunctuation: true, passwordLength: 64 },
    });
    const group = new elasticache.CfnReplicationGroup(this, 'ReplicationGroup', {
      replicationGroupDescription: 'Sluice BullMQ queues',
      engine: 'redis',
      engineVersion: '7.1',
      cacheNodeType: props.nodeType,
      cacheParameterGroupName: parameters.ref,
      cacheSubnetGroupName: subnetGroup.ref,
      securityGroupIds: [securityGroup.securityGroupId],
      port: REDIS_PORT,
      numCacheClusters: props.multiAz ? 2 : 1,
      automaticFailoverEnabled: props.multiAz,
      multiAzEnabled: props.multiAz,
      atRestEncryptionEnabled: true,
      transitEncryptionEnabled: true,
      transitEncryptionMode: 'required',
      authToken: this.authToken.secretValue.unsafeUnwrap(),
      snapshotRetentionLimit: 1,
      autoMinorVersionUpgrade: true,
    });
    this.host = group.attrPrimaryEndPointAddress;
    this.port = group.attrPrimaryEndPointPort;
  }
}
