/**
 * The world's vocabulary in one place: what exists (shapes, sprites, colours, backgrounds, motions) and the
 * words used to talk about it. The renderer, the recaptioner, the prompt expander and the judge all read these
 * tables, so a new sprite or colour added here is drawn, described, parsed and graded at once.
 */

export const SHAPES = ['circle', 'square', 'triangle', 'star', 'ring', 'hexagon', 'diamond'] as const;
export type ShapeKind = (typeof SHAPES)[number];

/** What a sprite is for: decides plausible motions and how it is talked about. */
export type SpriteRole = 'walker' | 'flyer' | 'swimmer' | 'vehicle' | 'ball' | 'thing';

export interface SpriteInfo {
  /** Canonical name used in specs and captions. */
  name: string;
  /** Image file in emoji-datasource-twitter/img/twitter/64/. */
  image: string;
  role: SpriteRole;
  /** Extra nouns a caption may use and the expander understands. */
  synonyms: string[];
  /** True when the picture faces left, so walking right mirrors it. */
  facesLeft: boolean;
}

/** Curated Twemoji sprites (Twemoji graphics by Twitter, Inc and other contributors, CC-BY 4.0). */
export const SPRITES: readonly SpriteInfo[] = [
  { name: 'elephant', image: '1f418.png', role: 'walker', synonyms: ['mammoth', 'pachyderm'], facesLeft: true },
  { name: 'dog', image: '1f415.png', role: 'walker', synonyms: ['puppy', 'hound'], facesLeft: true },
  { name: 'cat', image: '1f408.png', role: 'walker', synonyms: ['kitten', 'kitty'], facesLeft: true },
  { name: 'horse', image: '1f40e.png', role: 'walker', synonyms: ['pony', 'stallion'], facesLeft: true },
  { name: 'cow', image: '1f404.png', role: 'walker', synonyms: ['cattle'], facesLeft: true },
  { name: 'pig', image: '1f416.png', role: 'walker', synonyms: ['piglet', 'hog'], facesLeft: true },
  { name: 'rabbit', image: '1f407.png', role: 'walker', synonyms: ['bunny', 'hare'], facesLeft: true },
  { name: 'tiger', image: '1f405.png', role: 'walker', synonyms: [], facesLeft: true },
  { name: 'camel', image: '1f42b.png', role: 'walker', synonyms: ['dromedary'], facesLeft: true },
  { name: 'turtle', image: '1f422.png', role: 'walker', synonyms: ['tortoise'], facesLeft: true },
  { name: 'penguin', image: '1f427.png', role: 'walker', synonyms: [], facesLeft: false },
  { name: 'chicken', image: '1f414.png', role: 'walker', synonyms: ['hen', 'rooster'], facesLeft: true },
  { name: 'dinosaur', image: '1f996.png', role: 'walker', synonyms: ['t rex', 'trex'], facesLeft: true },
  { name: 'robot', image: '1f916.png', role: 'walker', synonyms: ['android', 'droid'], facesLeft: false },
  { name: 'bird', image: '1f426.png', role: 'flyer', synonyms: ['songbird'], facesLeft: true },
  { name: 'butterfly', image: '1f98b.png', role: 'flyer', synonyms: [], facesLeft: false },
  { name: 'bee', image: '1f41d.png', role: 'flyer', synonyms: ['bumblebee', 'honeybee'], facesLeft: true },
  { name: 'eagle', image: '1f985.png', role: 'flyer', synonyms: ['hawk', 'falcon'], facesLeft: true },
  { name: 'fish', image: '1f41f.png', role: 'swimmer', synonyms: [], facesLeft: true },
  { name: 'dolphin', image: '1f42c.png', role: 'swimmer', synonyms: ['porpoise'], facesLeft: true },
  { name: 'whale', image: '1f40b.png', role: 'swimmer', synonyms: [], facesLeft: true },
  { name: 'car', image: '1f697.png', role: 'vehicle', synonyms: ['automobile', 'sedan'], facesLeft: true },
  { name: 'taxi', image: '1f695.png', role: 'vehicle', synonyms: ['cab'], facesLeft: true },
  { name: 'bus', image: '1f68c.png', role: 'vehicle', synonyms: ['coach'], facesLeft: true },
  { name: 'tractor', image: '1f69c.png', role: 'vehicle', synonyms: [], facesLeft: true },
  { name: 'bicycle', image: '1f6b2.png', role: 'vehicle', synonyms: ['bike'], facesLeft: false },
  { name: 'airplane', image: '2708-fe0f.png', role: 'flyer', synonyms: ['aeroplane', 'plane', 'jet'], facesLeft: false },
  { name: 'helicopter', image: '1f681.png', role: 'flyer', synonyms: ['chopper'], facesLeft: true },
  { name: 'rocket', image: '1f680.png', role: 'flyer', synonyms: ['spaceship', 'spacecraft'], facesLeft: false },
  { name: 'ufo', image: '1f6f8.png', role: 'flyer', synonyms: ['flying saucer'], facesLeft: false },
  { name: 'sailboat', image: '26f5.png', role: 'swimmer', synonyms: ['boat', 'yacht'], facesLeft: false },
  { name: 'soccer ball', image: '26bd.png', role: 'ball', synonyms: ['football'], facesLeft: false },
  { name: 'basketball', image: '1f3c0.png', role: 'ball', synonyms: [], facesLeft: false },
  { name: 'tennis ball', image: '1f3be.png', role: 'ball', synonyms: [], facesLeft: false },
  { name: 'apple', image: '1f34e.png', role: 'thing', synonyms: [], facesLeft: false },
  { name: 'banana', image: '1f34c.png', role: 'thing', synonyms: [], facesLeft: false },
  { name: 'pizza', image: '1f355.png', role: 'thing', synonyms: ['pizza slice'], facesLeft: false },
  { name: 'burger', image: '1f354.png', role: 'thing', synonyms: ['hamburger', 'cheeseburger'], facesLeft: false },
  { name: 'watermelon', image: '1f349.png', role: 'thing', synonyms: ['melon'], facesLeft: false },
  { name: 'doughnut', image: '1f369.png', role: 'thing', synonyms: ['donut'], facesLeft: false },
  { name: 'cloud', image: '2601-fe0f.png', role: 'flyer', synonyms: [], facesLeft: false },
  { name: 'sun', image: '2600-fe0f.png', role: 'thing', synonyms: [], facesLeft: false },
  { name: 'snowflake', image: '2744-fe0f.png', role: 'thing', synonyms: [], facesLeft: false },
  { name: 'lightning bolt', image: '26a1.png', role: 'thing', synonyms: ['thunderbolt'], facesLeft: false },
  { name: 'balloon', image: '1f388.png', role: 'flyer', synonyms: [], facesLeft: false },
  { name: 'ghost', image: '1f47b.png', role: 'flyer', synonyms: ['spirit', 'phantom'], facesLeft: false },
];

export const SPRITE_NAMES = SPRITES.map((s) => s.name);
export type ObjectKind = ShapeKind | string;

export function isShape(kind: string): kind is ShapeKind {
  return (SHAPES as readonly string[]).includes(kind);
}

export function spriteInfo(kind: string): SpriteInfo | undefined {
  return SPRITES.find((s) => s.name === kind);
}

/** Named colours, well apart in hue and lightness so the judge can tell them apart from pixels. */
export const COLOURS = {
  red: [220, 40, 40],
  orange: [245, 140, 20],
  yellow: [245, 220, 40],
  green: [40, 170, 60],
  blue: [40, 90, 230],
  purple: [140, 60, 200],
  pink: [245, 130, 190],
  cyan: [40, 210, 220],
  brown: [130, 80, 40],
  white: [245, 245, 245],
  grey: [128, 128, 128],
  black: [20, 20, 20],
} as const satisfies Record<string, readonly [number, number, number]>;
export type ColourName = keyof typeof COLOURS;
export const COLOUR_NAMES = Object.keys(COLOURS) as ColourName[];

/** Words a user may write for a colour; the recaptioner uses the first entry of each list besides the name. */
export const COLOUR_SYNONYMS: Record<string, ColourName> = {
  crimson: 'red', scarlet: 'red', ruby: 'red', vermilion: 'red',
  amber: 'orange', tangerine: 'orange',
  golden: 'yellow', gold: 'yellow', lemon: 'yellow',
  emerald: 'green', lime: 'green', olive: 'green',
  navy: 'blue', azure: 'blue', cobalt: 'blue', sapphire: 'blue',
  violet: 'purple', lavender: 'purple', magenta: 'purple', indigo: 'purple',
  rose: 'pink', salmon: 'pink',
  turquoise: 'cyan', teal: 'cyan', aqua: 'cyan',
  tan: 'brown', chocolate: 'brown',
  ivory: 'white', pearl: 'white',
  gray: 'grey', silver: 'grey',
  ebony: 'black', jet: 'black',
};

export const SIZES = ['small', 'medium', 'large'] as const;
export type SizeName = (typeof SIZES)[number];
/** Object diameter as a fraction of the frame's shorter side. */
export const SIZE_FRACTION: Record<SizeName, number> = { small: 0.17, medium: 0.23, large: 0.3 };
export const SIZE_WORDS: Record<SizeName, string[]> = {
  small: ['small', 'little', 'tiny'],
  medium: ['medium-sized', 'mid-sized'],
  large: ['large', 'big', 'huge', 'giant'],
};

export const DIRECTIONS = ['left', 'right', 'up', 'down', 'up-left', 'up-right', 'down-left', 'down-right'] as const;
export type Direction = (typeof DIRECTIONS)[number];
export const DIRECTION_VECTORS: Record<Direction, [number, number]> = {
  left: [-1, 0], right: [1, 0], up: [0, -1], down: [0, 1],
  'up-left': [-Math.SQRT1_2, -Math.SQRT1_2], 'up-right': [Math.SQRT1_2, -Math.SQRT1_2],
  'down-left': [-Math.SQRT1_2, Math.SQRT1_2], 'down-right': [Math.SQRT1_2, Math.SQRT1_2],
};

export const MOTIONS = [
  'move', 'walk', 'run', 'fly', 'fall', 'bounce', 'jump', 'rise', 'spin', 'grow', 'shrink', 'orbit', 'stay',
] as const;
export type MotionType = (typeof MOTIONS)[number];
/** Motions that take a direction, and which directions. */
export const MOTION_DIRECTIONS: Partial<Record<MotionType, readonly Direction[]>> = {
  move: DIRECTIONS,
  fly: ['left', 'right', 'up-left', 'up-right', 'down-left', 'down-right'],
  walk: ['left', 'right'],
  run: ['left', 'right'],
};
export const SPEEDS = ['slow', 'normal', 'fast'] as const;
export type Speed = (typeof SPEEDS)[number];

export const BACKGROUNDS = ['solid', 'sky', 'sunset', 'night', 'snow', 'grass', 'sea', 'desert', 'city'] as const;
export type BackgroundKind = (typeof BACKGROUNDS)[number];
/** Solid backgrounds come in these colours only (the rest would hide objects too often). */
export const SOLID_BACKGROUND_COLOURS: readonly ColourName[] = ['white', 'black', 'grey', 'blue', 'green', 'yellow', 'pink'];

export const CAMERAS = ['still', 'pan-left', 'pan-right', 'zoom-in', 'zoom-out'] as const;
export type CameraMotion = (typeof CAMERAS)[number];
export const WEATHERS = ['clear', 'snow', 'rain'] as const;
export type Weather = (typeof WEATHERS)[number];
export const LIGHTINGS = ['day', 'night'] as const;
export type Lighting = (typeof LIGHTINGS)[number];

/** Small count words, both for captions ("two red circles") and for parsing prompts ("several mammoths"). */
export const NUMBER_WORDS: Record<string, number> = {
  a: 1, an: 1, one: 1, single: 1, two: 2, pair: 2, three: 3, several: 3, few: 3, four: 4, many: 4,
};
export const COUNT_WORDS = ['', 'one', 'two', 'three', 'four'];

/** English plural of a noun phrase's last word. */
export function plural(noun: string): string {
  const words = noun.split(' ');
  const last = words.pop()!;
  let p: string;
  if (last === 'fish') p = 'fish';
  else if (last === 'mouse') p = 'mice';
  else if (/(s|x|ch|sh)$/.test(last)) p = `${last}es`;
  else if (/[^aeiou]y$/.test(last)) p = `${last.slice(0, -1)}ies`;
  else p = `${last}s`;
  return [...words, p].join(' ');
}
