export * from './dtype.js';
export * from './safetensors.js';
export * from './model-folder.js';
export { writeFileAtomic, writeBytesAtomic } from './atomic.js';
export * from './json.js';
