// Tessera's library entry point.
export * from './errors.js';
export * from './progress.js';
