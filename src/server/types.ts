/**
 * The server's vocabulary: the Video object of OpenAI's Videos API, the job parameters Tessera stores for it,
 * and the generator a worker drives. Everything on the wire is snake_case, as OpenAI sends it.
 */
import type { GenerationOptions, GenerationRequest, GenerationResult } from '../pipelines/types.js';

export type VideoStatus = 'queued' | 'in_progress' | 'completed' | 'failed';

/** The Video object, exactly the fields the official SDK types declare. */
export interface VideoObject {
  id: string;
  object: 'video';
  model: string;
  status: VideoStatus;
  progress: number;
  created_at: number;
  completed_at: number | null;
  expires_at: number | null;
  prompt: string | null;
  seconds: string;
  size: string;
  remixed_from_video_id: string | null;
  error: { code: string; message: string } | null;
}

/** How a job was asked for; decides what the worker conditions on. */
export type JobKind = 'create' | 'remix' | 'edit' | 'extend';

/** Everything a worker needs to render one video; stored as JSON beside the job row and sent to remote workers. */
export interface JobParams
  extends Pick<GenerationRequest, 'prompt' | 'negativePrompt' | 'width' | 'height' | 'fps' | 'seed'>,
    Partial<Pick<GenerationRequest, 'steps' | 'guidanceScale'>> {
  kind: JobKind;
  /** Frames the generator produces for this job (for an extension: the new segment only). */
  frames: number;
  /** File name of the stored input image inside the job's folder (image-to-video). */
  inputReference?: string;
  /** The completed video this job edits or extends (its frames are read from its folder). */
  sourceVideoId?: string;
}

/** A row of the job store. */
export interface JobRecord {
  id: string;
  model: string;
  status: VideoStatus;
  progress: number;
  createdAt: number;
  startedAt: number | null;
  completedAt: number | null;
  expiresAt: number | null;
  /** Duration in seconds as OpenAI writes it: a string. For extensions, the stitched total. */
  seconds: string;
  size: string;
  remixedFromVideoId: string | null;
  error: { code: string; message: string } | null;
  /** Who created it (the API key's label), for per-key listing and limits; null when keys are off. */
  owner: string | null;
  params: JobParams;
}

/** What a model can make, as the API validates requests against it. */
export interface GeneratorCapabilities {
  model: string;
  /** Sizes offered besides OpenAI's four (the model's training sizes). */
  sizes: { width: number; height: number }[];
  /** Longest clip one job may ask for, in frames. */
  maxFrames: number;
  /** Frames per second of the output when the request does not say. */
  defaultFps: number;
  defaultSteps: number;
  defaultGuidance: number;
}

/** The one interface a worker needs from a model: the real pipeline and test generators both fit it. */
export interface VideoGenerator extends GeneratorCapabilities {
  generate(req: GenerationRequest, opts?: GenerationOptions): Promise<GenerationResult>;
}

/**
 * A module a worker process can load by URL to get its generator: it must export
 * `createGenerator(modelDir: string): Promise<VideoGenerator>`. Workers run in other processes (or machines),
 * so the generator travels as a module URL, never as an object.
 */
export interface GeneratorSource {
  moduleUrl: string;
  modelDir: string;
}
