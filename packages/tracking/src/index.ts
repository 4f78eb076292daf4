export {
  authHeadersFromEnv,
  MlflowClient,
  type MlflowClientOptions,
  MlflowError,
  MlflowIncompleteRunError,
} from './client.js';
export { type SyncSummary, syncCommand, syncStore } from './sync.js';
export { SyncMarkers } from './sync-marker.js';
export { MlflowTracker, type MlflowTrackerOptions } from './tracker.js';
export type {
  RunEnvironment,
  TrackedRun,
  TrackedRunIdentity,
  Tracker,
} from './tracker-interface.js';
