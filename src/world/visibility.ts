/**
 * Faithfulness of generated scenes: a random scene's spec must describe what its frames show, or neither the
 * model nor the judge can learn or grade from it. An object is shown faithfully when, over the whole clip, it
 * stays inside the frame, keeps clear of every other object (so no collision changes its motion and no overlap
 * hides it), never meets a wall unless its motion is about the floor, and stands out from the background behind it.
 */
import { LIGHT_TINT } from './backgrounds.js';
import { COLOURS, isShape } from './lexicon.js';
import { backgroundCanvas, drawBackground, objectStamp, SHAPE_GEOMETRY } from './render.js';
import { cameraAt, simulate, type Pose } from './simulate.js';
import type { SceneSpec } from './spec.js';

/** Smallest object diameter, in pixels, that shapes and sprites can be told apart at. */
export const MIN_OBJECT_PX = 14;
/** Clear space between any two objects at every frame, in pixels. */
const GAP_PX = 4;
/** A pixel counts as visible when its colour differs this much from the background (sum over RGB). */
const VISIBLE_DIFFERENCE = 80;
/** Share of an object's opaque pixels that must be visible. */
const MIN_VISIBLE_SHARE = 0.8;

/** How far an object's pixels reach from its centre, as a multiple of its radius (any rotation). */
export function reachOf(kind: string): number {
  return isShape(kind) ? SHAPE_GEOMETRY[kind].outer : 1.1;
}

const GROUNDED = new Set(['fall', 'bounce', 'jump']);

/**
 * Whether object `index` of `spec` is shown faithfully, given the simulated poses of the scene (objects after
 * `index` are ignored, so objects can be placed one at a time). Adding it must leave every object moving exactly
 * as it would alone; `before`, the poses without it when those objects were already checked, saves simulating them.
 */
export function shownFaithfully(spec: SceneSpec, index: number, poses: Pose[][], before?: Pose[][]): boolean {
  const { width, height } = spec;
  const unit = Math.min(width, height);
  const o = spec.objects[index]!;
  const grounded = GROUNDED.has(o.motion.type);
  const reach = reachOf(o.kind);
  const edge = 1 / unit, gap = GAP_PX / unit;
  // nothing else may change its path: objects that do not move still stand in the way of those that do, at the
  // place they started from, even when they orbit away from it or grow past it
  for (let j = 0; j <= index; j++) {
    const alone = j < index && before ? before.map((frame) => [frame[j]!]) : simulate({ ...spec, objects: [spec.objects[j]!] });
    for (let f = 0; f < spec.frames; f++) {
      const p = poses[f]![j]!, free = alone[f]![0]!;
      if (Math.abs(free.x - p.x) > 1e-9 || Math.abs(free.y - p.y) > 1e-9) return false;
    }
  }
  for (let f = 0; f < spec.frames; f++) {
    const p = poses[f]![index]!;
    // inside the walls: only motions about the floor may touch it, and nothing touches the sides or the top
    if (p.x - p.radius < edge || p.x + p.radius > width / unit - edge || p.y - p.radius < edge) return false;
    if (!grounded && p.y + p.radius > height / unit - edge) return false;
    // inside the view, as the camera sees it
    const cam = cameraAt(spec, f / spec.fps);
    const sx = (p.x * unit - width / 2 - cam.offsetX * unit) * cam.zoom + width / 2;
    const sy = (p.y * unit - height / 2) * cam.zoom + height / 2;
    const sr = p.radius * unit * cam.zoom;
    if (sx - sr < 1 || sx + sr > width - 1 || sy - sr < 1 || sy + sr > height + (grounded ? 0.5 : -1)) return false;
    for (let j = 0; j < index; j++) {
      const q = poses[f]![j]!;
      const clear = p.radius * reach + q.radius * reachOf(spec.objects[j]!.kind) + gap;
      if (Math.hypot(p.x - q.x, p.y - q.y) < clear) return false;
    }
  }
  return standsOut(spec, index, poses);
}

/** Whether the object's opaque pixels differ clearly from the background at the first, middle and last frames. */
function standsOut(spec: SceneSpec, index: number, poses: Pose[][]): boolean {
  const { width, height } = spec;
  const unit = Math.min(width, height);
  const o = spec.objects[index]!;
  const tint = LIGHT_TINT[spec.lighting];
  const c = COLOURS[o.colour ?? 'white'];
  const colour = [c[0] * tint[0], c[1] * tint[1], c[2] * tint[2]] as const;
  const bare: SceneSpec = { ...spec, weather: 'clear', objects: [] };
  const canvas = backgroundCanvas(bare);
  const bg = new Uint8Array(width * height * 3);
  let opaque = 0, visible = 0;
  for (const f of new Set([0, spec.frames >> 1, spec.frames - 1])) {
    const cam = cameraAt(spec, f / spec.fps);
    drawBackground({ data: bg, offset: 0, width, height }, canvas, cam, unit);
    const p = poses[f]![index]!;
    const sx = (p.x * unit - width / 2 - cam.offsetX * unit) * cam.zoom + width / 2;
    const sy = (p.y * unit - height / 2) * cam.zoom + height / 2;
    const { stamp, ix, iy } = objectStamp(o.kind, colour, tint, sx, sy, p.radius * unit * cam.zoom, p.angle, p.mirror);
    for (let y = 0; y < stamp.side; y++) {
      const py = iy - stamp.pad + y;
      if (py < 0 || py >= height) continue;
      for (let x = 0; x < stamp.side; x++) {
        const px = ix - stamp.pad + x;
        const s = (y * stamp.side + x) * 4;
        const a = stamp.rgba[s + 3]!;
        if (px < 0 || px >= width || a < 0.5) continue;
        const b = (py * width + px) * 3;
        let diff = 0;
        for (let ch = 0; ch < 3; ch++) diff += Math.abs(stamp.rgba[s + ch]! + bg[b + ch]! * (1 - a) - bg[b + ch]!);
        opaque++;
        if (diff > VISIBLE_DIFFERENCE) visible++;
      }
    }
  }
  return opaque > 0 && visible / opaque >= MIN_VISIBLE_SHARE;
}
