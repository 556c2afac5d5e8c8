export { startLocalCluster } from './cluster';
export type { LocalCluster, LocalClusterOptions, IngressMode, LlmTarget } from './cluster';
export { clearClusterData } from './clear';
export { grantConsents } from './consent';
