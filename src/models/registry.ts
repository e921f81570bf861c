/**
 * Component classes by the name stored in model_index.json and config.json. A model folder names its parts'
 * classes; this table says how to build each one from its subfolder. Kept apart from index.ts so a model file
 * can register itself without importing every other model.
 */
import { TesseraError } from '../errors.js';

/** Builds a component from its folder (e.g. `dir/vae`). */
export type ComponentLoader = (dir: string) => Promise<unknown>;

const loaders = new Map<string, ComponentLoader>();

/** Registers (or replaces) the loader of a class name. */
export function registerComponent(className: string, loader: ComponentLoader): void {
  loaders.set(className, loader);
}

export function registeredComponents(): string[] {
  return [...loaders.keys()].sort();
}

export function componentLoader(className: string, where: string): ComponentLoader {
  const loader = loaders.get(className);
  if (!loader) {
    throw new TesseraError(
      'unsupported',
      `${where}: unknown component class '${className}' (known: ${registeredComponents().join(', ') || 'none'})`,
      { param: where },
    );
  }
  return loader;
}
