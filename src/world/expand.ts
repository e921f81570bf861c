/**
 * Prompt expander: user prompt -> partial scene -> complete SceneSpec (seeded defaults for what the prompt left
 * out) -> the dense caption the model was trained on. Works in two passes: scene-wide phrases (setting, weather,
 * light, camera) are matched and cut out first, then the rest is read left to right as entities: count, size and
 * colour words gather until a noun, motion verbs and their direction and speed attach to the latest entity.
 * Words it could not use are reported, so a user sees that "woolly" or "dramatic" had no effect.
 *
 * Optionally an LLM behind any OpenAI-compatible chat endpoint rewrites the prompt into the world's vocabulary
 * first (off by default); any failure falls back to the built-in expander.
 */
import { Rng } from '../engine/random.js';
import { invalidArgument } from '../errors.js';
import {
  BACKGROUND_PHRASES, CAMERA_PHRASES, DIRECTION_PHRASES, LIGHTING_PHRASES, MOTION_VERBS, POSITION_PHRASES, SHAPE_NOUNS,
  SPEED_WORDS, WEATHER_PHRASES, captionSpec, type PositionWord,
} from './caption.js';
import {
  BACKGROUNDS, COLOURS, COLOUR_NAMES, COLOUR_SYNONYMS, MOTION_DIRECTIONS, NUMBER_WORDS, SHAPES, SIZE_WORDS,
  SPRITES, isShape, plural, spriteInfo,
  type BackgroundKind, type CameraMotion, type ColourName, type Direction, type Lighting, type MotionType, type SizeName,
  type Speed, type Weather,
} from './lexicon.js';
import {
  MAX_OBJECTS, motionsFor, spreadOut, startPosition, validateSpec, visibleColours,
  type Background, type Motion, type ObjectSpec, type SceneSpec,
} from './spec.js';

export interface ParsedEntity {
  kind?: string;
  count: number;
  size?: SizeName;
  colour?: ColourName;
  motion?: MotionType;
  direction?: Direction;
  speed?: Speed;
  position?: PositionWord;
}

export interface ParsedPrompt {
  entities: ParsedEntity[];
  background?: Background;
  camera?: CameraMotion;
  weather?: Weather;
  lighting?: Lighting;
  /** Words that were neither understood nor common function words. */
  unknown: string[];
}

// ---------------------------------------------------------------------------------------------------------------
// Pass 1: scene-wide phrases

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const normalise = (s: string) => s.toLowerCase().replace(/[-_]/g, ' ').replace(/[^a-z0-9,.;!?' ]/g, ' ').replace(/\s+/g, ' ');
const exact = (phrases: readonly string[]) => new RegExp(`\\b(?:${phrases.map((p) => escape(normalise(p).replace(/[.]$/, ''))).filter((p) => p).sort((a, b) => b.length - a.length).join('|')})\\b`);

type SceneRule = [RegExp, (p: ParsedPrompt, m: RegExpExecArray) => void];
const colourWord = `(${[...COLOUR_NAMES, ...Object.keys(COLOUR_SYNONYMS)].join('|')})`;
const setBackground = (kind: BackgroundKind) => (p: ParsedPrompt) => { p.background ??= { kind }; };

const SCENE_RULES: SceneRule[] = [
  // the exact phrases the recaptioner writes, longest first, so that captions read back exactly
  ...(Object.entries(BACKGROUND_PHRASES) as [BackgroundKind, string[]][]).map(([kind, phrases]): SceneRule => [exact(phrases), setBackground(kind)]),
  [new RegExp(`\\b(?:on|against|in front of)? ?(?:a |an )?(?:plain |solid |flat |simple |uniform )?${colourWord} (?:background|backdrop)\\b`),
    (p, m) => { p.background ??= { kind: 'solid', colour: colourName(m[1]!) }; }],
  [exact(Object.values(WEATHER_PHRASES).flat()), (p, m) => { p.weather ??= m[0].includes('snow') ? 'snow' : m[0].includes('rain') ? 'rain' : 'clear'; }],
  [exact(LIGHTING_PHRASES.night), (p) => { p.lighting ??= 'night'; }],
  [exact(LIGHTING_PHRASES.day), (p) => { p.lighting ??= 'day'; }],
  ...(Object.entries(CAMERA_PHRASES) as [CameraMotion, string[]][]).map(([camera, phrases]): SceneRule => [exact(phrases), (p) => { p.camera ??= camera; }]),
  // looser phrasings from people
  [/\b(?:the )?(?:camera |shot )?(?:slowly )?(?:pans?|panning|tracks?|tracking) (?:to the |towards? the )?(left|right)\b/,
    (p, m) => { p.camera ??= m[1] === 'left' ? 'pan-left' : 'pan-right'; }],
  [/\b(?:the )?(?:camera |shot )?(?:slowly )?(?:zooms?|zooming|pushes|pushing) in\b/, (p) => { p.camera ??= 'zoom-in'; }],
  [/\b(?:the )?(?:camera |shot )?(?:slowly )?(?:zooms?|zooming|pulls?|pulling) (?:out|back)\b/, (p) => { p.camera ??= 'zoom-out'; }],
  [/\b(?:static|still|fixed|locked off|locked) (?:camera|shot)\b/, (p) => { p.camera ??= 'still'; }],
  [/\b(?:city|street|streets|neon|downtown|tokyo|cyberpunk|urban)(?: (?:street|streets|signs|lights|signage|at night))*\b/, setBackground('city')],
  [/\b(?:snowy|snow covered|snow capped) (?:meadow|field|landscape|plain|plains|hills?|forest|mountains?|trees|peaks)\b|\bsnowfield\b|\b(?:through|in|across|over) the snow\b|\btundra\b|\bwinter landscape\b/, setBackground('snow')],
  [/\b(?:sunset|dusk|twilight|sundown|golden hour)\b/, setBackground('sunset')],
  [/\b(?:starry(?: night)?(?: sky)?|night sky|full of stars|beneath the stars|outer space|space)\b/, setBackground('night')],
  [/\b(?:desert|dunes?|sandy|sands?)\b/, setBackground('desert')],
  [/\b(?:sea|ocean|waves|beach|seaside|underwater)\b/, setBackground('sea')],
  [/\b(?:grass|grassy|field|meadow|grassland|lawn|pasture|prairie|park)\b/, setBackground('grass')],
  [/\b(?:blue sky|sky|clouds|in the air)\b/, setBackground('sky')],
  [/\b(?:snow(?:s|ing|fall|storm)?|blizzard|falling snow)\b/, (p) => { p.weather ??= 'snow'; }],
  [/\b(?:rain(?:s|ing|y|fall|storm)?|downpour|drizzle)\b/, (p) => { p.weather ??= 'rain'; }],
  [/\b(?:at night|night ?time|moon ?light|moonlit|in the dark)\b/, (p) => { p.lighting ??= 'night'; }],
  [/\b(?:day ?light|day ?time|during the day|sunny day|sunlit)\b/, (p) => { p.lighting ??= 'day'; }],
];

function colourName(word: string): ColourName {
  return (COLOURS as Record<string, unknown>)[word] ? (word as ColourName) : COLOUR_SYNONYMS[word]!;
}

// ---------------------------------------------------------------------------------------------------------------
// Pass 2: entities

type Token =
  | { t: 'noun'; kind: string }
  | { t: 'count'; n: number }
  | { t: 'size'; size: SizeName }
  | { t: 'colour'; colour: ColourName }
  | { t: 'verb'; motion: MotionType }
  | { t: 'dir'; dir: Direction }
  | { t: 'speed'; speed: Speed }
  | { t: 'pos'; pos: PositionWord }
  | { t: 'stop' };

/** Phrase (space-separated words) -> meaning. Built once from the shared tables. */
const PHRASES = new Map<string, Token>();
function add(phrase: string, token: Token): void {
  const key = normalise(phrase).trim();
  if (!PHRASES.has(key)) PHRASES.set(key, token);
}
for (const shape of SHAPES) for (const noun of SHAPE_NOUNS[shape]) { add(noun, { t: 'noun', kind: shape }); add(plural(noun), { t: 'noun', kind: shape }); }
for (const [word, shape] of [['sphere', 'circle'], ['orb', 'circle'], ['dot', 'circle'], ['cube', 'square'], ['box', 'square'], ['pentagram', 'star'], ['donut shape', 'ring']] as const) {
  add(word, { t: 'noun', kind: shape }); add(plural(word), { t: 'noun', kind: shape });
}
for (const s of SPRITES) for (const noun of [s.name, ...s.synonyms]) { add(noun, { t: 'noun', kind: s.name }); add(plural(noun), { t: 'noun', kind: s.name }); }
for (const [size, words] of Object.entries(SIZE_WORDS) as [SizeName, string[]][]) for (const w of words) add(w, { t: 'size', size });
for (const [w, size] of [['medium', 'medium'], ['enormous', 'large'], ['massive', 'large'], ['miniature', 'small'], ['mini', 'small']] as const) add(w, { t: 'size', size });
for (const c of COLOUR_NAMES) add(c, { t: 'colour', colour: c });
for (const [w, c] of Object.entries(COLOUR_SYNONYMS)) add(w, { t: 'colour', colour: c });
for (const [motion, forms] of Object.entries(MOTION_VERBS) as [MotionType, [string, string][]][]) for (const [a, b] of forms) { add(a, { t: 'verb', motion }); add(b, { t: 'verb', motion }); }
const EXTRA_VERBS: Record<string, MotionType> = {
  moving: 'move', roll: 'move', rolls: 'move', rolling: 'move', drive: 'move', drives: 'move', driving: 'move', sail: 'move', sails: 'move',
  sailing: 'move', swim: 'move', swims: 'move', swimming: 'move', travels: 'move', crosses: 'move', cross: 'move',
  walking: 'walk', trudge: 'walk', trudges: 'walk', trudging: 'walk', march: 'walk', marches: 'walk', marching: 'walk', treading: 'walk',
  wander: 'walk', wanders: 'walk', wandering: 'walk', strolling: 'walk', trot: 'walk', trots: 'walk', trotting: 'walk',
  running: 'run', gallop: 'run', gallops: 'run', galloping: 'run', sprint: 'run', sprints: 'run', sprinting: 'run', racing: 'run',
  flying: 'fly', flutter: 'fly', flutters: 'fly', fluttering: 'fly', glide: 'fly', soaring: 'fly',
  falling: 'fall', tumble: 'fall', tumbles: 'fall', tumbling: 'fall', dropping: 'fall',
  bouncing: 'bounce', jumping: 'jump', hopping: 'jump', leaping: 'jump',
  rising: 'rise', floats: 'rise', float: 'rise', floating: 'rise', launches: 'rise', launch: 'rise', lifts: 'rise', climbs: 'rise',
  spinning: 'spin', rotating: 'spin', twirling: 'spin', whirls: 'spin', whirling: 'spin',
  growing: 'grow', expanding: 'grow', shrinking: 'shrink',
  orbits: 'orbit', orbit: 'orbit', orbiting: 'orbit', circling: 'orbit',
  sits: 'stay', sit: 'stay', sitting: 'stay', rests: 'stay', resting: 'stay', stands: 'stay', standing: 'stay', hovers: 'stay', waits: 'stay', still: 'stay',
  motionless: 'stay', stationary: 'stay',
};
for (const [w, m] of Object.entries(EXTRA_VERBS)) add(w, { t: 'verb', motion: m });
for (const [dir, phrases] of Object.entries(DIRECTION_PHRASES) as [Direction, string[]][]) for (const p of phrases) add(p, { t: 'dir', dir });
for (const [w, dir] of [
  ['left', 'left'], ['right', 'right'], ['up', 'up'], ['down', 'down'], ['upwards', 'up'], ['downwards', 'down'], ['leftwards', 'left'],
  ['rightwards', 'right'], ['from left to right', 'right'], ['from right to left', 'left'], ['skyward', 'up'], ['up left', 'up-left'],
  ['up right', 'up-right'], ['down left', 'down-left'], ['down right', 'down-right'],
] as const) add(w, { t: 'dir', dir });
for (const [speed, words] of Object.entries(SPEED_WORDS) as [Speed, readonly string[]][]) for (const w of words) add(w, { t: 'speed', speed });
for (const [w, speed] of [['slow', 'slow'], ['fast', 'fast'], ['quick', 'fast'], ['swift', 'fast'], ['rapid', 'fast'], ['lazily', 'slow'], ['briskly', 'fast']] as const) add(w, { t: 'speed', speed });
for (const [pos, phrases] of Object.entries(POSITION_PHRASES) as [PositionWord, readonly string[]][]) for (const p of phrases) add(p, { t: 'pos', pos });
for (const [w, n] of Object.entries(NUMBER_WORDS)) add(w, { t: 'count', n });
add('another', { t: 'count', n: 1 });
add('a pair of', { t: 'count', n: 2 });
add('a few', { t: 'count', n: 3 });

/** Common words that carry no scene fact; not reported as unknown. */
const STOP_WORDS = new Set((
  'the of and while as with is are it its they their them this that these those there then in on at by to from for into ' +
  'onto over under through across along around near toward towards scene frame takes place all happens everything lit be ' +
  'being been has have was were which who where when so some very side shot camera light lighting weather background ' +
  'video clip image picture shows showing show depicting depicts view seen see we can one each other together both also ' +
  'just its own beautiful cute simple little plain against front our'
).split(' '));

const MAX_PHRASE_WORDS = 7;

function tokenize(text: string, unknown: string[]): Token[] {
  const words = text.split(/[\s,.;!?']+/).filter((w) => w);
  const tokens: Token[] = [];
  for (let i = 0; i < words.length;) {
    let matched = false;
    for (let n = Math.min(MAX_PHRASE_WORDS, words.length - i); n >= 1; n--) {
      const tok = PHRASES.get(words.slice(i, i + n).join(' '));
      if (tok) { tokens.push(tok); i += n; matched = true; break; }
    }
    if (matched) continue;
    const w = words[i]!;
    // plurals the tables did not spell out ("mammoths" is listed; "robots" is too; "knights" is not)
    const singular = w.endsWith('s') ? PHRASES.get(w.slice(0, -1)) : undefined;
    if (singular && singular.t === 'noun') tokens.push(singular);
    else if (!STOP_WORDS.has(w) && !/^\d+$/.test(w)) unknown.push(w);
    i++;
  }
  return tokens;
}

/** Reads a prompt into what it says about the scene. */
export function parsePrompt(prompt: string): ParsedPrompt {
  const parsed: ParsedPrompt = { entities: [], unknown: [] };
  let text = ` ${normalise(prompt)} `;
  for (const [re, apply] of SCENE_RULES) {
    const global = new RegExp(re.source, 'g');
    let m: RegExpExecArray | null;
    while ((m = global.exec(text)) !== null) {
      if (m[0].trim() === '') { global.lastIndex++; continue; }
      apply(parsed, m);
    }
    text = text.replace(global, ' . ');
  }
  let pending: Partial<ParsedEntity> = {};
  let pendingSpeed: Speed | undefined;
  let pendingMotion: MotionType | undefined;
  let last: ParsedEntity | undefined; // latest entity named
  let mover: ParsedEntity | undefined; // entity of the latest verb
  for (const tok of tokenize(text, parsed.unknown)) {
    switch (tok.t) {
      case 'count': pending.count = tok.n; break;
      case 'size': pending.size = tok.size; break;
      case 'colour': pending.colour = tok.colour; break;
      case 'noun': {
        last = { count: 1, ...pending, kind: tok.kind };
        if (pendingMotion) { last.motion = pendingMotion; mover = last; pendingMotion = undefined; }
        parsed.entities.push(last);
        pending = {};
        break;
      }
      case 'verb': {
        if (!last) { pendingMotion ??= tok.motion; break; }
        if (last.motion === undefined) {
          last.motion = tok.motion;
          if (pendingSpeed) { last.speed = pendingSpeed; pendingSpeed = undefined; }
        }
        mover = last;
        break;
      }
      case 'dir': if (mover && mover.direction === undefined) mover.direction = tok.dir; break;
      case 'speed':
        if (last && last.motion === undefined) pendingSpeed = tok.speed;
        else if (mover && mover.speed === undefined) mover.speed = tok.speed;
        break;
      case 'pos': if (last && last.position === undefined) last.position = tok.pos; break;
    }
  }
  // colour or size words with no noun after them describe an unnamed thing: "something red bounces"
  if (parsed.entities.length === 0 && (pending.colour || pending.size || pendingMotion)) {
    parsed.entities.push({ count: pending.count ?? 1, size: pending.size, colour: pending.colour, motion: pendingMotion });
  }
  return parsed;
}

// ---------------------------------------------------------------------------------------------------------------
// Filling the gaps

export interface ExpandOptions {
  seed?: number;
  width?: number;
  height?: number;
  frames?: number;
  fps?: number;
}

export interface Expansion {
  spec: SceneSpec;
  /** The dense caption of the completed spec: what the model was trained on. */
  caption: string;
  parsed: ParsedPrompt;
  unknownWords: string[];
  /** Which expander produced the spec. */
  source: 'builtin' | 'llm';
  /** Text the LLM rewrote the prompt into, when one was used. */
  rewritten?: string;
}

const POSITION_AT: Record<PositionWord, { x?: number; y?: number }> = {
  left: { x: 0.25 }, right: { x: 0.75 }, top: { y: 0.25 }, bottom: { y: 0.75 }, centre: { x: 0.5, y: 0.5 },
};

/** A setting that suits the first subject when the prompt names none. */
function defaultBackground(kind: string | undefined): Background {
  const role = kind ? spriteInfo(kind)?.role : undefined;
  switch (role) {
    case 'walker': return { kind: 'grass' };
    case 'flyer': return { kind: 'sky' };
    case 'swimmer': return { kind: 'sea' };
    case 'vehicle': return { kind: 'city' };
    case 'ball': return { kind: 'grass' };
    default: return { kind: 'solid', colour: 'white' };
  }
}

/** Builds a complete, valid spec from what a prompt said, filling the rest from seeded defaults. */
export function completeSpec(parsed: ParsedPrompt, opts: ExpandOptions = {}): SceneSpec {
  const rng = new Rng(opts.seed ?? 0).fork('expand');
  const entities = parsed.entities.length > 0 ? parsed.entities : [{ count: 1 } as ParsedEntity];
  const background = parsed.background ?? defaultBackground(entities[0]!.kind);
  const lighting: Lighting = background.kind === 'night' || background.kind === 'city' ? 'day' : parsed.lighting ?? 'day';
  const colours = visibleColours(background, lighting);
  const objects: ObjectSpec[] = [];
  for (const e of entities) {
    const kind = e.kind ?? rng.pick(SHAPES);
    for (let k = 0; k < e.count && objects.length < MAX_OBJECTS; k++) {
      const type = e.motion ?? rng.pick(motionsFor(kind));
      const allowed = MOTION_DIRECTIONS[type];
      const motion: Motion = { type, speed: e.speed ?? 'normal' };
      if (allowed) motion.direction = e.direction && allowed.includes(e.direction) ? e.direction : rng.pick(allowed);
      const position = { ...startPosition(rng, motion), ...(e.position ? POSITION_AT[e.position] : {}) };
      const o: ObjectSpec = { kind, size: e.size ?? 'medium', position, motion, physics: { restitution: 0.8, collide: true, depth: objects.length } };
      if (isShape(kind)) o.colour = e.colour ?? (colours.length > 0 ? rng.pick(colours) : 'red');
      objects.push(o);
    }
  }
  spreadOut(objects, rng);
  return validateSpec({
    width: opts.width ?? 64, height: opts.height ?? 64, frames: opts.frames ?? 16, fps: opts.fps ?? 8,
    seed: opts.seed ?? 0, background, lighting, objects,
    camera: parsed.camera ?? 'still', weather: parsed.weather ?? 'clear',
  });
}

/** Built-in expansion: parse, complete, recaption densely. */
export function expandPrompt(prompt: string, opts: ExpandOptions = {}): Expansion {
  if (typeof prompt !== 'string' || prompt.trim() === '') throw invalidArgument('prompt', 'expected a non-empty text prompt');
  const parsed = parsePrompt(prompt);
  const spec = completeSpec(parsed, opts);
  return { spec, caption: captionSpec(spec, 'dense', opts.seed ?? 0), parsed, unknownWords: [...new Set(parsed.unknown)], source: 'builtin' };
}

export interface LlmOptions {
  /** e.g. https://api.openai.com/v1 or http://localhost:11434/v1; default env TESSERA_LLM_BASE_URL. */
  baseUrl?: string;
  /** default env TESSERA_LLM_MODEL. */
  model?: string;
  /** default env TESSERA_LLM_API_KEY (may be empty for local servers). */
  apiKey?: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

const LLM_SYSTEM = () => `You rewrite video prompts for a tiny simulated world. Reply with one or two plain sentences and nothing else.
Use only these subjects: ${[...SHAPES, ...SPRITES.map((s) => s.name)].join(', ')}; colours (for shapes): ${COLOUR_NAMES.join(', ')};
sizes: small, large; motions: ${Object.values(MOTION_VERBS).map((v) => v[0]![0]).join(', ')}; directions: left, right, upward, downward;
settings: ${BACKGROUNDS.filter((b) => b !== 'solid').map((b) => BACKGROUND_PHRASES[b as Exclude<BackgroundKind, 'solid'>][0]).join('; ')}, or a plain colour background;
weather: snow, rain; light: daylight or night; camera: static, pans left/right, zooms in/out. At most ${MAX_OBJECTS} subjects.`;

/** Expansion with an LLM rewrite first; falls back to the built-in expander on any error. */
export async function expandPromptWithLlm(prompt: string, opts: ExpandOptions & { llm?: LlmOptions } = {}): Promise<Expansion> {
  const llm = opts.llm ?? {};
  const baseUrl = llm.baseUrl ?? process.env.TESSERA_LLM_BASE_URL;
  const model = llm.model ?? process.env.TESSERA_LLM_MODEL;
  const apiKey = llm.apiKey ?? process.env.TESSERA_LLM_API_KEY ?? '';
  if (!baseUrl || !model) return expandPrompt(prompt, opts);
  try {
    const res = await (llm.fetch ?? fetch)(`${baseUrl.replace(/\/$/, '')}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
      body: JSON.stringify({ model, temperature: 0, messages: [{ role: 'system', content: LLM_SYSTEM() }, { role: 'user', content: prompt }] }),
      signal: AbortSignal.timeout(llm.timeoutMs ?? 20000),
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const body = (await res.json()) as { choices?: { message?: { content?: string } }[] };
    const rewritten = body.choices?.[0]?.message?.content?.trim();
    if (!rewritten) throw new Error('empty reply');
    const expansion = expandPrompt(rewritten, opts);
    if (expansion.parsed.entities.length === 0) throw new Error('the rewrite named no subject');
    return { ...expansion, source: 'llm', rewritten };
  } catch {
    return expandPrompt(prompt, opts);
  }
}
