/**
 * What a caller (CLI, server, library user) asks the generation pipeline for, and what comes back.
 * Every mode of the Sora report is one request shape: conditions and `edit` select image-to-video, extension,
 * loop, connect, keyframes and video-to-video; frames = 1 is image generation.
 */
import type { VideoClip } from '../media/types.js';
import type { ProgressCallback } from '../progress.js';
import type { Tensor } from '../engine/index.js';
import type { SchedulerName } from '../diffusion/index.js';

/** A clip (or image) placed at a frame of the output, as in LTX-Video's conditioning. */
export interface FrameCondition {
  clip: VideoClip;
  /** Output frame index where the clip's first frame lands (negative counts from the end). */
  frameIndex: number;
  /** 1 = keep exactly, lower = let the model deviate (0..1). */
  strength: number;
}

/** The sampler names are the diffusion layer's scheduler names. */
export type SamplerName = SchedulerName;

export interface GenerationRequest {
  prompt: string;
  negativePrompt?: string;
  width: number;
  height: number;
  /** Output frame count (1 = an image). */
  frames: number;
  fps: number;
  steps: number;
  guidanceScale: number;
  /**
   * Flow times [low, high] (1 = pure noise) between which guidance applies; at steps outside it the conditional
   * prediction is used alone, one model pass instead of two (guidance in a limited interval, Kynkäänniemi et al.
   * 2024). Default [0, 1]: every step.
   */
  guidanceInterval?: [number, number];
  seed: number;
  sampler: SamplerName;
  /** euler-ancestral: DDIM's eta, 0 (Euler) to 1 (ancestral); default DEFAULT_ETA. Other samplers ignore it. */
  eta?: number;
  /**
   * How alike the starting noise of the latent frames is, 0 (independent) to below 1: a shared part seeds objects
   * in the same place on every frame, for steadier clips (diffusion/noise.ts). Default: the model's own, from
   * scheduler/config.json (0 unless it was trained with correlated noise).
   */
  noiseCorrelation?: number;
  /** Expand the prompt into the dense caption style the model was trained on. */
  expandPrompt: boolean | 'llm';
  conditions?: FrameCondition[];
  /** Video-to-video (SDEdit): noise the input to `strength` and denoise with the prompt. */
  edit?: { clip: VideoClip; strength: number };
}

export interface GenerationResult {
  clip: VideoClip;
  seed: number;
  /** The caption the model was actually conditioned on. */
  caption: string;
  timings: Record<string, number>;
}

/** What the per-step callback sees after each sampler step (diffusers' callback_on_step_end). */
export interface StepInfo {
  /** Sampling pass (long outputs take several) and step within it. */
  pass: number;
  step: number;
  totalSteps: number;
  /** Flow time of the model evaluation just made (1 = noise, 0 = data). */
  timestep: number;
  /** The current latents [1, C, T, H, W] (normalised), after the given frames were re-imposed. Read-only. */
  latents: Tensor;
}

export interface GenerationOptions {
  onProgress?: ProgressCallback;
  /** Called after every sampler step with the latents. */
  onStep?: (info: StepInfo) => void;
  signal?: AbortSignal;
}
