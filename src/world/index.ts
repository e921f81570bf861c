/**
 * The simulated world Tessera trains on and grades with.
 *
 *   validateSpec(json) -> SceneSpec            plain-JSON scene, checked, defaults filled (spec.ts)
 *   randomSpec(seed, {width, height, frames})  a random scene whose spec is faithful to its frames (visibility.ts)
 *   renderScene(spec) -> VideoClip             deterministic, anti-aliased frames (render.ts)
 *   captionSpec(spec, 'short'|'medium'|'dense', seed) -> string   the recaptioner (caption.ts)
 *   expandPrompt(prompt, {seed, width, ...}) -> {spec, caption, unknownWords}   prompt expander (expand.ts)
 *   expandPromptWithLlm(prompt, {llm})         the same, after an optional LLM rewrite (OpenAI-compatible)
 *   analyseClip(clip) -> Analysis              background, camera, tracks with kind/colour/motion (judge.ts)
 *   judgeClip(clip, spec) -> JudgeScores       per-attribute accuracy, permanence, physics
 *   judgeAgainstPrompt(clip, prompt)           grades only what the prompt states
 *   worldVocabulary() -> string[]              every word a caption or expansion can produce
 * Datasets over the world and over video folders live in src/data/.
 */
export * from './lexicon.js';
export * from './spec.js';
export { renderScene, screenPose, objectFootprints, type Footprint } from './render.js';
export { simulate, cameraAt, type Pose, type Camera } from './simulate.js';
export { captionSpec, groupObjects, pickCaptionLevel, CAPTION_LEVELS, type CaptionLevel } from './caption.js';
export { expandPrompt, expandPromptWithLlm, parsePrompt, completeSpec, type Expansion, type ExpandOptions, type LlmOptions, type ParsedPrompt } from './expand.js';
export { analyseClip, judgeClip, judgeAgainstPrompt, expectedMotionClass, type Analysis, type JudgeScores, type MotionClass, type Track } from './judge.js';
export { worldVocabulary } from './vocabulary.js';
