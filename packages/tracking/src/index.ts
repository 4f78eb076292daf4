export type {
  RunEnvironment,
  TrackedRun,
  TrackedRunIdentity,
  Tracker,
} from './tracker-interface.js';
export {
  authHeadersFromEnv,
  MlflowClient,
  type MlflowClientOptions,
  MlflowError,
} from './client.js';
export { SyncMarkers } from './sync-marker.js';
export { MlflowTracker, type MlflowTrackerOptions } from './tracker.js';
export { type SyncSummary, syncStore } from './sync.js';
