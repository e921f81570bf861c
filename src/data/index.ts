/**
 * Training data.
 *   new WorldDataset({ buckets: [{width, height, frames, weight}], seed, heldOut, split, captionLevels })
 *     .next() -> { clip, caption, spec, level, bucket, index };  .cursor() / .seek(cursor) to resume
 *   videoFolderClips({ dir, bucket }) -> async iterator of { clip, caption, file, start } over a folder of videos
 *     with captions.jsonl
 */
export { WorldDataset, matchesCombo, type Bucket, type HeldOutCombo, type WorldCursor, type WorldDatasetOptions, type WorldSample } from './world-dataset.js';
export { videoFolderClips, readCaptions, type CaptionedFile, type FolderPlace, type FolderSample, type VideoFolderOptions } from './video-folder.js';
