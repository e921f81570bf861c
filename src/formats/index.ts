export * from './dtype.js';
export * from './safetensors.js';
export * from './model-folder.js';
export { writeHandleAtomically, writeFileAtomically } from '../atomic.js';
export * from './json.js';
