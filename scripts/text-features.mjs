// How much of a caption reaches the DiT through the text encoder's features? For a model folder's encoder, prints
// the mean norm of its token vectors and of its pooled vectors (the pooled vector feeds adaLN), and the mean cosine
// between the pooled vectors of unlike captions: near 1, every caption gives adaLN about the same vector and only
// cross-attention can tell them apart. Captions: the world's dense captions of 16 random scenes.
// Usage: node scripts/text-features.mjs MODEL_DIR... (needs `npm run build`)
import { loadModel } from '../dist/models/index.js';
import { captionSpec, randomSpec } from '../dist/world/index.js';

const dirs = process.argv.slice(2);
if (dirs.length === 0) {
  console.error('text-features: expected one or more model folders');
  process.exit(2);
}
const captions = Array.from({ length: 16 }, (_, i) => captionSpec(randomSpec(1000 + i), 'dense', i));
const norm = (v) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
for (const dir of dirs) {
  let model;
  try {
    model = await loadModel(dir, { only: ['text_encoder', 'tokenizer'] });
  } catch (e) {
    console.error(`text-features: ${e.message}`);
    process.exit(2);
  }
  const { tokens, pooled, mask } = model.textEncoder.encodePrompts(model.tokenizer, captions);
  const D = pooled.shape[1];
  const rows = (t, n) => Array.from({ length: n }, (_, i) => Array.from(t.data.subarray(i * D, (i + 1) * D)));
  const tokenNorms = rows(tokens, tokens.shape[0] * tokens.shape[1]).filter((_, i) => mask[i]).map(norm);
  const pooledRows = rows(pooled, captions.length);
  let cosine = 0, pairs = 0;
  for (let a = 0; a < pooledRows.length; a++) {
    for (let b = a + 1; b < pooledRows.length; b++) {
      cosine += pooledRows[a].reduce((s, x, k) => s + x * pooledRows[b][k], 0) / (norm(pooledRows[a]) * norm(pooledRows[b]));
      pairs++;
    }
  }
  const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;
  console.log(`${dir}: token norm ${mean(tokenNorms).toFixed(2)}, pooled norm ${mean(pooledRows.map(norm)).toFixed(2)}, pooled cosine between captions ${(cosine / pairs).toFixed(3)}`);
}
