// What the benchmark runner calls to put each placement of a placement matrix on the testbed in turn.
import type { Backend, WorkOptions } from '../backends/backend';
import type { ModelInfo, Placement } from '../results/run-file';
import { deployModel, undeployModel, type DeployOptions } from './deploy/deploy';

/**
 * "none" undeploys whatever is deployed and returns undefined; any other placement builds the model in modelDir and
 * deploys it (replacing the previous one) and returns what results record about it.
 */
export async function preparePlacement(backend: Backend, modelDir: string, placement: Placement, opts: WorkOptions & Pick<DeployOptions, 'config' | 'build'> = {}): Promise<ModelInfo | undefined> {
  if (placement === 'none') {
    await undeployModel(backend, opts);
    return undefined;
  }
  const { deployed } = await deployModel(backend, modelDir, placement, opts);
  return { placement, dir: deployed.dir, sourceHash: deployed.sourceHash, buildId: deployed.buildId };
}
