/**
 * Module: a node in a tree of layers that owns parameters.
 *
 * Children and parameters are discovered from a module's own enumerable properties, in the order they were
 * assigned (so names are stable and read like the code):
 *   - a Tensor made with `parameter()` or with `requiresGrad` set is a parameter,
 *   - a Tensor registered with `registerBuffer()` is a buffer (saved in the state dict, never trained),
 *   - a Module is a child, and an array of Modules is a list of children named by index.
 * Names are dotted paths: "blocks.0.attn.qkv.weight", as in PyTorch state dicts.
 */
import { Tensor } from '../engine/index.js';
import { TesseraError } from '../errors.js';

/** Tensors created as parameters stay parameters even when frozen (requiresGrad = false). */
const PARAMETERS = new WeakSet<Tensor>();

/** Marks a tensor as a trainable parameter and returns it. */
export function parameter(t: Tensor): Tensor {
  t.requiresGrad = true;
  PARAMETERS.add(t);
  return t;
}

export function isParameter(value: unknown): value is Tensor {
  return value instanceof Tensor && (PARAMETERS.has(value) || value.requiresGrad);
}

export type StateDict = Map<string, Tensor>;

export interface LoadStateDictOptions {
  /** Every expected tensor must be present and no unexpected one may be (default true). */
  strict?: boolean;
}

export class Module {
  // Bookkeeping lives in non-enumerable properties so the discovery below never sees it.
  declare private readonly bufferNames: Set<string>;
  declare training: boolean;

  constructor() {
    Object.defineProperty(this, 'bufferNames', { value: new Set<string>(), enumerable: false });
    Object.defineProperty(this, 'training', { value: true, writable: true, enumerable: false });
  }

  /** Stores a non-trainable tensor that belongs in the state dict (running statistics, fixed tables). */
  protected registerBuffer(name: string, value: Tensor): Tensor {
    (this as unknown as Record<string, unknown>)[name] = value;
    this.bufferNames.add(name);
    return value;
  }

  /** Direct children with their property names; arrays of modules give "name.i". */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof Module) out.push([key, value]);
      else if (Array.isArray(value)) {
        value.forEach((item, i) => {
          if (item instanceof Module) out.push([`${key}.${i}`, item]);
        });
      }
    }
    return out;
  }

  /** This module and every descendant, depth first, with dotted names ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.namedChildren()) out.push(...child.namedModules(join(prefix, name)));
    return out;
  }

  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [key, value] of Object.entries(this)) {
      if (isParameter(value) && !this.bufferNames.has(key)) out.push([join(prefix, key), value]);
    }
    for (const [name, child] of this.namedChildren()) out.push(...child.namedParameters(join(prefix, name)));
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const key of this.bufferNames) {
      const value = (this as unknown as Record<string, unknown>)[key];
      if (value instanceof Tensor) out.push([join(prefix, key), value]);
    }
    for (const [name, child] of this.namedChildren()) out.push(...child.namedBuffers(join(prefix, name)));
    return out;
  }

  /** Parameters and buffers by dotted name. The tensors are the live ones, not copies. */
  stateDict(): StateDict {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /**
   * Copies values into this module's tensors in place (optimiser state keeps pointing at the same tensors).
   * Shapes must match exactly; errors name the tensor.
   */
  loadStateDict(sd: StateDict, { strict = true }: LoadStateDictOptions = {}): void {
    const own = this.stateDict();
    if (strict) {
      const missing = [...own.keys()].filter((k) => !sd.has(k));
      const unexpected = [...sd.keys()].filter((k) => !own.has(k));
      if (missing.length > 0 || unexpected.length > 0) {
        const parts: string[] = [];
        if (missing.length > 0) parts.push(`missing ${listNames(missing)}`);
        if (unexpected.length > 0) parts.push(`unexpected ${listNames(unexpected)}`);
        throw new TesseraError('invalid_argument', `loadStateDict: ${parts.join('; ')}`, { param: 'stateDict' });
      }
    }
    // Check every shape before writing anything, so a failed load leaves the module untouched.
    for (const [name, target] of own) {
      const source = sd.get(name);
      if (source && !sameShape(source.shape, target.shape)) {
        throw new TesseraError(
          'shape_mismatch',
          `loadStateDict: ${name}: expected shape [${target.shape.join(',')}], got [${source.shape.join(',')}]`,
          { param: name },
        );
      }
    }
    for (const [name, target] of own) {
      const source = sd.get(name);
      if (source) target.data.set(source.data);
    }
  }

  /** Sets training mode on this module and all descendants (dropout-like behaviour, EMA swaps). */
  train(on = true): this {
    for (const m of this.modules()) m.training = on;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Stops gradients for every parameter (a frozen VAE or text encoder); they stay in the state dict. */
  freeze(frozen = true): this {
    for (const p of this.parameters()) {
      PARAMETERS.add(p); // still a parameter once requiresGrad is off
      p.requiresGrad = !frozen;
    }
    return this;
  }

  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  numParameters(): number {
    let n = 0;
    for (const p of this.parameters()) n += p.size;
    return n;
  }
}

function join(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}.${name}`;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function listNames(names: string[]): string {
  const shown = names.slice(0, 5).join(', ');
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown;
}
