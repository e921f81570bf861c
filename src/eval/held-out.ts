/**
 * Colour x shape x motion triples that training never shows, so evaluation can ask whether the model composes
 * attributes it learned apart (it has seen red things, stars and spinning, but never a red star spinning).
 * Sprites keep their own colours, so only shapes take part. Training excludes any scene with an object that
 * matches a triple (`hasHeldOutCombination`); eval/prompts.jsonl flags the prompts that contain one.
 */
import type { ColourName, MotionType, ShapeKind } from '../world/lexicon.js';
import type { ObjectSpec, SceneSpec } from '../world/spec.js';

export interface HeldOutCombination {
  colour: ColourName;
  kind: ShapeKind;
  motion: MotionType;
}

export const HELD_OUT_COMBINATIONS: readonly HeldOutCombination[] = [
  { colour: 'red', kind: 'star', motion: 'spin' },
  { colour: 'blue', kind: 'circle', motion: 'bounce' },
  { colour: 'yellow', kind: 'triangle', motion: 'fall' },
  { colour: 'green', kind: 'square', motion: 'move' },
  { colour: 'purple', kind: 'hexagon', motion: 'grow' },
  { colour: 'orange', kind: 'diamond', motion: 'orbit' },
  { colour: 'pink', kind: 'ring', motion: 'rise' },
  { colour: 'cyan', kind: 'hexagon', motion: 'jump' },
];

/** The held-out triple an object realises, if any. */
export function heldOutCombinationOf(o: Pick<ObjectSpec, 'kind' | 'colour' | 'motion'>): HeldOutCombination | undefined {
  return HELD_OUT_COMBINATIONS.find((c) => c.kind === o.kind && c.colour === o.colour && c.motion === o.motion.type);
}

/** True when any object of the scene is a held-out triple: training should skip such scenes. */
export function hasHeldOutCombination(spec: Pick<SceneSpec, 'objects'>): boolean {
  return spec.objects.some((o) => heldOutCombinationOf(o) !== undefined);
}
