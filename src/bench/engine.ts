/**
 * Engine benchmarks: attention, one pre-norm transformer block, and a full DiT training step — the same work as
 * /work/shared/reference/pytorch_dit_step.py (8 blocks, width 384, 6 heads, MLP 4x, adaLN-Zero, 4 x 256 tokens
 * of 48-dim patches, MSE, AdamW), built directly on engine ops so it measures the engine and nothing above it.
 * Each figure is the median of several runs after warm-up, in milliseconds of wall and of CPU time (see Timing);
 * parts not measured are NaN. The `models` part adds the VAE and DiT figures of the model stack.
 */
import { Rng, Tensor, getKernels, noGrad } from '../engine/index.js';
import * as E from '../engine/index.js';

export interface EngineBenchResult {
  attention_ms: { fwd: Timing; fwd_bwd: Timing };
  block_forward_ms: Timing;
  block_train_ms: Timing;
  dit_train_step_ms: Timing;
  /** The model-level figures: VAE encode + decode of a 17-frame 128x128 clip, DiT forward on its latent. */
  vae_encode_decode_ms: Timing;
  dit_forward_ms: Timing;
}

export interface EngineBenchOptions {
  /** Timed runs per figure (median reported); default 7 (3 for the DiT step). */
  runs?: number;
  warmup?: number;
  /** Which figures to measure (default all; the DiT step dominates the time on the reference kernels). */
  parts?: readonly ('attention' | 'block' | 'dit' | 'models')[];
}

const WIDTH = 384, HEADS = 6, HEAD_DIM = WIDTH / HEADS, BATCH = 4, TOKENS = 256, PATCH = 48, DEPTH = 8, FREQ = 256;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Wall and CPU milliseconds of one figure (medians). CPU time is the whole process (all pool threads), so on a
 * machine shared with other work it shows what the step costs when wall time is inflated by waiting for a core. */
export interface Timing {
  wall: number;
  cpu: number;
}

function time(fn: () => void, runs: number, warmup: number): Timing {
  for (let i = 0; i < warmup; i++) fn();
  const walls: number[] = [], cpus: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage(), faults0 = process.resourceUsage().minorPageFault;
    const t0 = performance.now();
    fn();
    walls.push(performance.now() - t0);
    const c = process.cpuUsage(c0), faults = process.resourceUsage().minorPageFault - faults0;
    cpus.push((c.user + c.system) / 1000);
    if (process.env['TESSERA_BENCH_VERBOSE']) process.stderr.write(`  run ${i}: wall ${walls[i]!.toFixed(1)} ms, cpu ${cpus[i]!.toFixed(1)} ms (sys ${(c.system / 1000).toFixed(1)}), ${faults} page faults, rss ${(process.memoryUsage.rss() / 2 ** 20).toFixed(0)} MiB\n`);
  }
  return { wall: median(walls), cpu: median(cpus) };
}

/** Parameters of the benchmark models: small normal init, all trainable. */
class ParamStore {
  readonly params: Tensor[] = [];
  constructor(private readonly rng: Rng) {}
  weight(out: number, inF: number): Tensor {
    return this.add(Tensor.randn([out, inF], this.rng, 1 / Math.sqrt(inF)));
  }
  bias(n: number): Tensor {
    return this.add(Tensor.zeros([n]));
  }
  ones(n: number): Tensor {
    return this.add(Tensor.ones([n]));
  }
  private add(t: Tensor): Tensor {
    this.params.push(t.requireGrad());
    return t;
  }
}

interface Linear {
  w: Tensor;
  b: Tensor;
}
const makeLinear = (p: ParamStore, inF: number, out: number): Linear => ({ w: p.weight(out, inF), b: p.bias(out) });
const applyLinear = (x: Tensor, l: Linear): Tensor => E.linear(x, l.w, l.b);

/** Multi-head self-attention on x [B, T, W] with a fused qkv projection. */
function selfAttention(x: Tensor, qkv: Linear, proj: Linear): Tensor {
  const [b, t] = x.shape as [number, number, number];
  const heads = E.permute(E.reshape(applyLinear(x, qkv), [b, t, 3, HEADS, HEAD_DIM]), [2, 0, 3, 1, 4]);
  const [q, k, v] = E.chunk(heads, 3, 0).map((h) => E.squeeze(h, 0)) as [Tensor, Tensor, Tensor];
  const o = E.attention(q, k, v);
  return applyLinear(E.reshape(E.permute(o, [0, 2, 1, 3]), [b, t, WIDTH]), proj);
}

interface Block {
  qkv: Linear;
  proj: Linear;
  fc1: Linear;
  fc2: Linear;
}
function makeBlock(p: ParamStore): Block {
  return { qkv: makeLinear(p, WIDTH, 3 * WIDTH), proj: makeLinear(p, WIDTH, WIDTH), fc1: makeLinear(p, WIDTH, 4 * WIDTH), fc2: makeLinear(p, 4 * WIDTH, WIDTH) };
}

/** Pre-norm transformer block: x + attn(ln(x)), then x + mlp(ln(x)). */
function plainBlock(x: Tensor, blk: Block, ln: Tensor[]): Tensor {
  x = E.add(x, selfAttention(E.layerNorm(x, ln[0]!, ln[1]!), blk.qkv, blk.proj));
  return E.add(x, applyLinear(E.gelu(applyLinear(E.layerNorm(x, ln[2]!, ln[3]!), blk.fc1)), blk.fc2));
}

interface DitBlock extends Block {
  ada: Linear;
}

/** DiT block with adaLN-Zero: six modulations from the conditioning vector c [B, W]. */
function ditBlock(x: Tensor, c: Tensor, blk: DitBlock): Tensor {
  const mods = E.chunk(E.unsqueeze(applyLinear(E.silu(c), blk.ada), 1), 6, 2);
  const [shiftA, scaleA, gateA, shiftM, scaleM, gateM] = mods as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
  const modulate = (h: Tensor, shift: Tensor, scale: Tensor): Tensor => E.add(E.mul(h, E.add(scale, 1)), shift);
  x = E.add(x, E.mul(gateA, selfAttention(modulate(E.layerNorm(x), shiftA, scaleA), blk.qkv, blk.proj)));
  const h = modulate(E.layerNorm(x), shiftM, scaleM);
  return E.add(x, E.mul(gateM, applyLinear(E.gelu(applyLinear(h, blk.fc1)), blk.fc2)));
}

function benchAttention(rng: Rng, runs: number, warmup: number): { fwd: Timing; fwd_bwd: Timing } {
  const shape = [BATCH, HEADS, TOKENS, HEAD_DIM];
  const [q, k, v] = [0, 1, 2].map(() => Tensor.randn(shape, rng).requireGrad()) as [Tensor, Tensor, Tensor];
  const dOut = Tensor.randn(shape, rng);
  return {
    fwd: time(() => noGrad(() => E.attention(q, k, v)), runs, warmup),
    fwd_bwd: time(() => E.attention(q, k, v).backward(dOut), runs, warmup),
  };
}

function benchBlock(rng: Rng, runs: number, warmup: number): { forward: Timing; train: Timing } {
  const p = new ParamStore(rng.fork('block'));
  const blk = makeBlock(p);
  const ln = [p.ones(WIDTH), p.bias(WIDTH), p.ones(WIDTH), p.bias(WIDTH)];
  const x = Tensor.randn([BATCH, TOKENS, WIDTH], rng);
  const dOut = Tensor.randn([BATCH, TOKENS, WIDTH], rng);
  const forward = time(() => noGrad(() => plainBlock(x, blk, ln)), runs, warmup);
  const train = time(() => {
    for (const t of p.params) t.zeroGrad();
    plainBlock(x, blk, ln).backward(dOut);
  }, runs, warmup);
  return { forward, train };
}

/** One optimisation step of the 22M-parameter DiT: forward, MSE, backward, AdamW (inline, kernels.adamw). */
function benchDit(rng: Rng, runs: number, warmup: number): Timing {
  const kernels = getKernels('float32');
  const p = new ParamStore(rng.fork('dit'));
  const inp = makeLinear(p, PATCH, WIDTH);
  const t1 = makeLinear(p, FREQ, WIDTH), t2 = makeLinear(p, WIDTH, WIDTH);
  const blocks: DitBlock[] = Array.from({ length: DEPTH }, () => ({ ...makeBlock(p), ada: makeLinear(p, WIDTH, 6 * WIDTH) }));
  const out = makeLinear(p, WIDTH, PATCH);
  const moments = p.params.map((t) => ({ m: new Float32Array(t.size), v: new Float32Array(t.size) }));
  const xs = Tensor.randn([BATCH, TOKENS, PATCH], rng), ys = Tensor.randn([BATCH, TOKENS, PATCH], rng);
  const tf = Tensor.randn([BATCH, FREQ], rng);
  let step = 0;
  return time(() => {
    for (const t of p.params) t.zeroGrad();
    const c = applyLinear(E.silu(applyLinear(tf, t1)), t2);
    let h = applyLinear(xs, inp);
    for (const blk of blocks) h = ditBlock(h, c, blk);
    E.mseLoss(applyLinear(h, out), ys).backward();
    step++;
    p.params.forEach((t, i) => {
      kernels.adamw(t.data, t.grad!.data, moments[i]!.m, moments[i]!.v, t.size, 1e-4, 0.9, 0.999, 1e-8, 0.01, step);
    });
  }, runs, warmup);
}

/**
 * The model stack's own figures, with the default configs: VAE encode (mean) + decode of one 17-frame 128x128
 * clip, and one DiT forward on that clip's latent ([1, 8, 5, 16, 16]: 320 tokens, 32 text tokens). Loaded lazily
 * so the engine figures do not depend on the model code.
 */
async function benchModels(rng: Rng, runs: number, warmup: number): Promise<{ vae: Timing; dit: Timing }> {
  const { CausalVideoVAE } = await import('../models/vae/index.js');
  const { DiT } = await import('../models/dit/index.js');
  const vae = new CausalVideoVAE({}, rng.fork('vae'));
  const clip = Tensor.rand([1, 3, 17, 128, 128], rng.fork('clip')).scaleShift(2, -1);
  const vaeTiming = time(() => noGrad(() => vae.decode(vae.encode(clip).mean)), runs, warmup);
  const dit = new DiT({}, rng.fork('dit'));
  const input = {
    latents: Tensor.randn([1, 8, 5, 16, 16], rng),
    timesteps: [0.5],
    text: { tokens: Tensor.randn([1, 32, 256], rng), pooled: Tensor.randn([1, 256], rng), mask: null },
  };
  const ditTiming = time(() => noGrad(() => dit.forward(input)), runs, warmup);
  return { vae: vaeTiming, dit: ditTiming };
}

export async function benchEngine(options: EngineBenchOptions = {}): Promise<EngineBenchResult> {
  const runs = options.runs ?? 7, warmup = options.warmup ?? 2;
  const parts = new Set(options.parts ?? ['attention', 'block', 'dit', 'models']);
  const rng = new Rng(0);
  const none: Timing = { wall: NaN, cpu: NaN };
  const attention = parts.has('attention') ? benchAttention(rng.fork('attention'), runs, warmup) : { fwd: none, fwd_bwd: none };
  const block = parts.has('block') ? benchBlock(rng.fork('block'), runs, warmup) : { forward: none, train: none };
  const dit = parts.has('dit') ? benchDit(rng.fork('dit'), options.runs ?? 3, Math.min(warmup, 2)) : none;
  const models = parts.has('models') ? await benchModels(rng.fork('models'), options.runs ?? 5, warmup) : { vae: none, dit: none };
  return {
    attention_ms: attention,
    block_forward_ms: block.forward,
    block_train_ms: block.train,
    dit_train_step_ms: dit,
    vae_encode_decode_ms: models.vae,
    dit_forward_ms: models.dit,
  };
}

/** Parameter count of the benchmark DiT (for reports). */
export function ditParameterCount(): number {
  const linear = (i: number, o: number): number => i * o + o;
  const block = linear(WIDTH, 3 * WIDTH) + linear(WIDTH, WIDTH) + linear(WIDTH, 4 * WIDTH) + linear(4 * WIDTH, WIDTH) + linear(WIDTH, 6 * WIDTH);
  return linear(PATCH, WIDTH) + linear(FREQ, WIDTH) + linear(WIDTH, WIDTH) + DEPTH * block + linear(WIDTH, PATCH);
}
