export {
  DiT,
  DiTConfig,
  DiTBlock,
  PatchEmbed3D,
  FramePositionEmbed,
  FrameIndexEmbed,
  TimestepEmbedder,
  SelfAttention,
  CrossAttention,
  FinalLayer,
  rope3d,
  ropeAxesPairs,
  frameChannels,
  batchTextConditions,
} from './model.js';
export type { DiTInput, TextCondition, FrameCondition, TokenGrid } from './model.js';
