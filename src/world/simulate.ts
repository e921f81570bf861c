/**
 * Simulator: turns a SceneSpec into per-frame object poses. Time is in seconds (frame / fps); lengths are in
 * world units where 1 unit is the frame's shorter side, so a scene looks the same at every resolution.
 * Objects with a velocity (move, walk, fly, fall, bounce, jump, rise) are integrated with fixed substeps and
 * collide with the walls, the floor and each other; the others (spin, grow, orbit, stay) follow closed forms.
 */
import { DIRECTION_VECTORS, SIZE_FRACTION, spriteInfo, type Speed } from './lexicon.js';
import type { ObjectSpec, SceneSpec } from './spec.js';

export interface Pose {
  /** Centre in world units (x right, y down), including bob and wave. */
  x: number;
  y: number;
  /** Radius in world units (half the drawn size). */
  radius: number;
  /** Rotation in radians, clockwise on screen. */
  angle: number;
  /** Draw the sprite mirrored (it faces its direction of travel). */
  mirror: boolean;
}

export interface Camera {
  /** World x of the view's left edge shift (pan), in units. */
  offsetX: number;
  /** Magnification about the frame centre. */
  zoom: number;
}

/** Downward acceleration in units/s^2, scaled by the motion's speed. */
export const GRAVITY = 2.0;
const SPEED_SCALE: Record<Speed, number> = { slow: 0.6, normal: 1, fast: 1.5 };
const LINEAR_SPEED = { move: 0.2, fly: 0.2, walk: 0.14, run: 0.3, rise: 0.16 } as const;
const JUMP_SPEED = 1.2;
const SPIN_RATE = { slow: 2, normal: 3, fast: 4.5 } as const;
const ORBIT_RADIUS = 0.18;
const PAN_SPEED = 0.12;
const ZOOM_RATE = 0.25;

const DYNAMIC = new Set(['move', 'walk', 'run', 'fly', 'fall', 'bounce', 'jump', 'rise']);

export function cameraAt(spec: SceneSpec, t: number): Camera {
  switch (spec.camera) {
    case 'pan-left': return { offsetX: -PAN_SPEED * t, zoom: 1 };
    case 'pan-right': return { offsetX: PAN_SPEED * t, zoom: 1 };
    case 'zoom-in': return { offsetX: 0, zoom: Math.min(2.5, 1 + ZOOM_RATE * t) };
    case 'zoom-out': return { offsetX: 0, zoom: Math.max(0.4, 1 / (1 + ZOOM_RATE * t)) };
    default: return { offsetX: 0, zoom: 1 };
  }
}

interface Body {
  spec: ObjectSpec;
  x: number; y: number; vx: number; vy: number;
  radius: number;
  dynamic: boolean;
  gravity: number;
  facingRight: boolean;
}

function initialBody(o: ObjectSpec, frameW: number, frameH: number): Body {
  const speed = SPEED_SCALE[o.motion.speed];
  const radius = SIZE_FRACTION[o.size] / 2;
  const b: Body = {
    spec: o, x: o.position.x * frameW, y: o.position.y * frameH, vx: 0, vy: 0, radius,
    dynamic: DYNAMIC.has(o.motion.type), gravity: 0, facingRight: true,
  };
  const type = o.motion.type;
  if (type === 'move' || type === 'fly' || type === 'walk' || type === 'run') {
    const [dx, dy] = DIRECTION_VECTORS[o.motion.direction!];
    const v = LINEAR_SPEED[type] * speed;
    b.vx = dx * v;
    b.vy = dy * v;
  } else if (type === 'rise') b.vy = -LINEAR_SPEED.rise * speed;
  else if (type === 'fall' || type === 'bounce') b.gravity = GRAVITY * speed;
  else if (type === 'jump') {
    b.gravity = GRAVITY * speed;
    b.y = Math.min(b.y, frameH - radius);
    b.vy = -JUMP_SPEED * Math.sqrt(speed);
  }
  b.facingRight = b.vx >= 0;
  return b;
}

/** Poses of every object at every frame: result[frame][object]. */
export function simulate(spec: SceneSpec): Pose[][] {
  const u = Math.min(spec.width, spec.height);
  const frameW = spec.width / u, frameH = spec.height / u;
  const bodies = spec.objects.map((o) => initialBody(o, frameW, frameH));
  const substeps = 4;
  const dt = 1 / spec.fps / substeps;
  const poses: Pose[][] = [];
  for (let f = 0; f < spec.frames; f++) {
    if (f > 0) for (let s = 0; s < substeps; s++) step(bodies, dt, frameW, frameH);
    const t = f / spec.fps;
    poses.push(bodies.map((b) => pose(b, t)));
  }
  return poses;
}

function step(bodies: Body[], dt: number, frameW: number, frameH: number): void {
  for (const b of bodies) {
    if (!b.dynamic) continue;
    b.vy += b.gravity * dt;
    b.x += b.vx * dt;
    b.y += b.vy * dt;
    const type = b.spec.motion.type;
    const e = type === 'fall' ? 0 : type === 'bounce' ? b.spec.physics.restitution : 1;
    if (b.x < b.radius) { b.x = b.radius; b.vx = Math.abs(b.vx); }
    if (b.x > frameW - b.radius) { b.x = frameW - b.radius; b.vx = -Math.abs(b.vx); }
    if (b.y < b.radius) { b.y = b.radius; b.vy = Math.abs(b.vy); }
    if (b.y > frameH - b.radius) {
      b.y = frameH - b.radius;
      // a jumper pushes off again on landing; a faller comes to rest
      if (type === 'jump') b.vy = -JUMP_SPEED * Math.sqrt(SPEED_SCALE[b.spec.motion.speed]);
      else b.vy = Math.abs(b.vy) * e < 0.15 ? 0 : -Math.abs(b.vy) * e;
    }
    if (b.vx !== 0) b.facingRight = b.vx > 0;
  }
  collidePairs(bodies);
}

/** Elastic contact between colliding objects; a body without velocity acts as an immovable obstacle. */
function collidePairs(bodies: Body[]): void {
  for (let i = 0; i < bodies.length; i++) {
    for (let j = i + 1; j < bodies.length; j++) {
      const a = bodies[i]!, b = bodies[j]!;
      if (!a.spec.physics.collide || !b.spec.physics.collide || (!a.dynamic && !b.dynamic)) continue;
      const dx = b.x - a.x, dy = b.y - a.y;
      const dist = Math.hypot(dx, dy);
      const minDist = (a.radius + b.radius) * 0.9;
      if (dist >= minDist || dist === 0) continue;
      const nx = dx / dist, ny = dy / dist;
      const overlap = minDist - dist;
      const approach = (b.vx - a.vx) * nx + (b.vy - a.vy) * ny;
      if (a.dynamic && b.dynamic) {
        a.x -= nx * overlap / 2; a.y -= ny * overlap / 2;
        b.x += nx * overlap / 2; b.y += ny * overlap / 2;
        if (approach < 0) {
          a.vx += approach * nx; a.vy += approach * ny;
          b.vx -= approach * nx; b.vy -= approach * ny;
        }
      } else {
        const mover = a.dynamic ? a : b;
        const sign = a.dynamic ? -1 : 1; // normal pointing away from the obstacle, toward the mover
        mover.x += sign * nx * overlap; mover.y += sign * ny * overlap;
        const vn = mover.vx * nx * sign + mover.vy * ny * sign;
        if (vn < 0) { mover.vx -= 2 * vn * nx * sign; mover.vy -= 2 * vn * ny * sign; }
      }
    }
  }
}

function pose(b: Body, t: number): Pose {
  const o = b.spec;
  const speed = o.motion.speed;
  let x = b.x, y = b.y, angle = 0, scale = 1;
  switch (o.motion.type) {
    case 'walk': y -= 0.015 * Math.abs(Math.sin(2 * Math.PI * 2 * t)); break;
    case 'run': y -= 0.025 * Math.abs(Math.sin(2 * Math.PI * 3 * t)); break;
    case 'fly': y += 0.015 * Math.sin(2 * Math.PI * 1.5 * t); break;
    case 'spin': angle = SPIN_RATE[speed] * t; break;
    case 'grow': scale = Math.min(2.2, 1 + 0.5 * SPEED_SCALE[speed] * t); break;
    case 'shrink': scale = Math.max(0.35, 1 - 0.3 * SPEED_SCALE[speed] * t); break;
    case 'orbit': {
      const w = 2.5 * SPEED_SCALE[speed];
      // the start position is on the circle; the centre lies to its left; counter-clockwise on screen
      x = b.x - ORBIT_RADIUS + ORBIT_RADIUS * Math.cos(w * t);
      y = b.y - ORBIT_RADIUS * Math.sin(w * t);
      break;
    }
  }
  const info = spriteInfo(o.kind);
  const mirror = info ? info.facesLeft === b.facingRight : false;
  return { x, y, radius: b.radius * scale, angle, mirror };
}
