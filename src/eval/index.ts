/** Evaluation: prompts with their scenes, held-out combinations, the world classifier, Frechet distance, eval runs. */
export { HELD_OUT_COMBINATIONS, hasHeldOutCombination, heldOutCombinationOf, type HeldOutCombination } from './held-out.js';
export { parsePromptFile, readPromptFile, validateEvalPrompt, type EvalPrompt, type PromptLevel } from './prompts.js';
export { symmetricEigen, sqrtSymmetric, type SymmetricEigen } from './linalg.js';
export { clipFrechetDistance, frechetDistance, frechetDistanceOf, gaussianStats, type FrechetParts, type GaussianStats } from './fvd.js';
export {
  ATTRIBUTES, CLASSIFIER_CLASS_NAME, WorldClassifier, classifyClips, defaultClassifierConfig, loadClassifier, saveClassifier,
  type Attribute, type ClipPrediction, type WorldClassifierConfig,
} from './classifier.js';
export {
  JUDGED_ATTRIBUTES, defaultClassifier, evaluate, evaluateVae, flattenReport, groundTruthGenerator, objectsFoundOf, pipelineGenerator, quickEval,
  selectSubset, summarise, type FoundObject, type ObjectsFound, type ClipGenerator, type EvalOptions, type EvalReport, type GroupSummary, type QuickEvalOptions, type SampleResult,
  type ClipSize, type VaeEvalReport, type VaeSummary, vaeReconstructor,
} from './run.js';
export { formatReport, formatVaeReport } from './report.js';
