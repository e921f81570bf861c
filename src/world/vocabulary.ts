/**
 * Every word the recaptioner and the expander can write, for the text tokenizer. Collected from the same phrase
 * tables the captions are built from, so it cannot fall behind them (a test checks generated captions against it).
 */
import {
  BACKGROUND_PHRASES, CAMERA_PHRASES, DIRECTION_PHRASES, LIGHTING_PHRASES, MOTION_VERBS, POSITION_PHRASES, SHAPE_NOUNS,
  SOLID_PHRASES, SPEED_WORDS, WEATHER_PHRASES,
} from './caption.js';
import { COLOUR_NAMES, COUNT_WORDS, SIZE_WORDS, SPRITES, plural } from './lexicon.js';

/** Caption glue outside the tables: articles, conjunctions, sentence frames. */
const GLUE = 'a an and while as the scene takes place in'.split(' ');

/** Splits text the way captions are tokenised: lower case, words and hyphenated words kept whole. */
export function captionWords(text: string): string[] {
  return text.toLowerCase().split(/[^a-z-]+/).filter((w) => w);
}

export function worldVocabulary(): string[] {
  const texts: string[] = [...GLUE, ...COLOUR_NAMES, ...COUNT_WORDS, ...Object.values(SIZE_WORDS).flat()];
  for (const nouns of Object.values(SHAPE_NOUNS)) for (const n of nouns) texts.push(n, plural(n));
  for (const s of SPRITES) texts.push(s.name, plural(s.name));
  for (const forms of Object.values(MOTION_VERBS)) for (const [a, b] of forms) texts.push(a, b);
  texts.push(...Object.values(DIRECTION_PHRASES).flat(), ...Object.values(SPEED_WORDS).flat());
  texts.push(...Object.values(BACKGROUND_PHRASES).flat(), ...SOLID_PHRASES.map((p) => p.replace('{c}', '')));
  texts.push(...Object.values(WEATHER_PHRASES).flat(), ...Object.values(LIGHTING_PHRASES).flat());
  texts.push(...Object.values(CAMERA_PHRASES).flat(), ...Object.values(POSITION_PHRASES).flat());
  return [...new Set(texts.flatMap(captionWords))].sort();
}
