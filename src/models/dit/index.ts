export {
  DiT,
  DiTConfig,
  DiTBlock,
  PatchEmbed3D,
  FramePositionEmbed,
  FrameIndexEmbed,
  TimestepEmbedder,
  SelfAttention,
  TemporalAttention,
  CrossAttention,
  FinalLayer,
  rope3d,
  ropeAxesPairs,
  frameChannels,
  batchTextConditions,
} from './model.js';
export type { DiTInput, TextCondition, FrameCondition, TokenGrid, BlockRotations } from './model.js';
