export {
  addNoise,
  velocityTarget,
  sampleLogitNormal,
  sampleTrainingTimes,
  shiftTime,
  resolutionShift,
  flowMatchingLoss,
  temporalDifferenceLoss,
  unconditionedWeight,
  flowTrainingBatch,
} from './flow.js';
export type { ResolutionShiftOptions, FlowBatch, FlowBatchOptions } from './flow.js';
export {
  FlowEulerScheduler,
  FlowHeunScheduler,
  FlowEulerAncestralScheduler,
  DEFAULT_ETA,
  createScheduler,
  flowSigmas,
  SCHEDULER_NAMES,
} from './schedulers.js';
export type { FlowScheduler, SetTimestepsOptions, SchedulerName, CreateSchedulerOptions } from './schedulers.js';
export { guidedVelocity, combineGuidance } from './guidance.js';
export { temporallyCorrelatedNoise, addNoiseOffset, isNoiseCorrelation, NOISE_CORRELATION_RANGE } from './noise.js';
