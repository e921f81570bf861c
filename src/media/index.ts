/** Media input/output: clips to and from files and bytes (ffmpeg for video codecs, sharp for images). */
export type { VideoClip, ImageRgb } from './types.js';
export { clipByteLength, frameView } from './types.js';
export { psnr8 } from './metrics.js';
export type { MediaFormat } from './formats.js';
export { MIME_TYPES, SUPPORTED_EXTENSIONS, formatFromPath, isMediaFormat } from './formats.js';
export type { EncodeOptions, SpritesheetOptions, ThumbnailOptions } from './write.js';
export { encodeSpritesheet, encodeThumbnail, encodeVideo, writeSpritesheet, writeThumbnail, writeVideo } from './write.js';
export type { Fit, ImageReadOptions, ImageType, VideoReadOptions } from './read.js';
export { decodeImage, readImage, readMedia, readVideo, sniffImageType } from './read.js';
export { writeAtomically, writeFileAtomically } from '../atomic.js';
export { ffmpegPath } from './ffmpeg.js';
export type { ResizeFit } from './resize.js';
export { resizeClip } from './resize.js';
