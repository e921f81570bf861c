export {
  addNoise,
  velocityTarget,
  sampleLogitNormal,
  shiftTime,
  resolutionShift,
  flowMatchingLoss,
  unconditionedWeight,
} from './flow.js';
export type { ResolutionShiftOptions } from './flow.js';
export {
  FlowEulerScheduler,
  FlowHeunScheduler,
  createScheduler,
  flowSigmas,
  SCHEDULER_NAMES,
} from './schedulers.js';
export type { FlowScheduler, SetTimestepsOptions, SchedulerName } from './schedulers.js';
export { guidedVelocity, combineGuidance } from './guidance.js';
