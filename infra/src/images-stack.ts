import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import type { Construct } from 'constructs';

/** How many images each repository keeps: the running one and a few to roll back to. */
export const IMAGES_KEPT = 20;

/**
 * The ECR repositories the images are pushed to. A stack of its own, deployed once before
 * the first push: the service stack refers to the images by repository name and tag, so it
 * synthesizes without Docker and deploys only what is already pushed.
 */
export class ImagesStack extends Stack {
  readonly api: ecr.Repository;
  readonly worker: ecr.Repository;

  constructor(scope: Construct, id: string, props: StackProps & { apiRepository: string; workerRepository: string }) {
    super(scope, id, props);
    const repository = (name: string) =>
      new ecr.Repository(this, name, {
        repositoryName: name,
        imageScanOnPush: true,
        // A tag names one build for good: a rollback redeploys exactly what ran before.
        imageTagMutability: ecr.TagMutability.IMMUTABLE,
        encryption: ecr.RepositoryEncryption.AES_256,
        lifecycleRules: [
          { description: 'untagged layers of interrupted pushes', tagStatus: ecr.TagStatus.UNTAGGED, maxImageAge: Duration.days(1) },
          { description: `keep the ${IMAGES_KEPT} newest images`, tagStatus: ecr.TagStatus.ANY, maxImageCount: IMAGES_KEPT },
        ],
        removalPolicy: RemovalPolicy.RETAIN,
      });
    this.api = repository(props.apiRepository);
    this.worker = repository(props.workerRepository);
  }
}
