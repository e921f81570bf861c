export * from './tokenizer.js';
export * from './encoder.js';
