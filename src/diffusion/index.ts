export {
  addNoise,
  velocityTarget,
  sampleLogitNormal,
  shiftTime,
  resolutionShift,
  flowMatchingLoss,
  unconditionedWeight,
  flowTrainingBatch,
} from './flow.js';
export type { ResolutionShiftOptions, FlowBatch, FlowBatchOptions } from './flow.js';
export {
  FlowEulerScheduler,
  FlowHeunScheduler,
  createScheduler,
  flowSigmas,
  SCHEDULER_NAMES,
} from './schedulers.js';
export type { FlowScheduler, SetTimestepsOptions, SchedulerName } from './schedulers.js';
export { guidedVelocity, combineGuidance } from './guidance.js';
