/**
 * Entry of a local worker process (forked by LocalQueue): loads the generator once, then renders one job at a
 * time as the server asks. It exits when the server goes away (the IPC channel closes), so a killed server
 * leaves no orphan rendering into its folders.
 */
import { loadGenerator, capabilitiesOf } from './generator.js';
import { OutputFiles } from './files.js';
import { jobErrorOf, type FromWorker, type ToWorker } from './queue.js';
import { renderJob } from './render.js';
import type { GeneratorSource } from './types.js';

const send = (m: FromWorker) => process.send?.(m);
process.on('disconnect', () => process.exit(0));

const { source, outputDir } = JSON.parse(process.env.TESSERA_WORKER_CONFIG ?? '{}') as { source: GeneratorSource; outputDir: string };
const files = new OutputFiles(outputDir);
const running = new Map<string, AbortController>();

try {
  const generator = await loadGenerator(source);
  process.on('message', (m: ToWorker) => {
    if (m.type === 'cancel') {
      running.get(m.id)?.abort();
      return;
    }
    const abort = new AbortController();
    running.set(m.id, abort);
    renderJob(m.id, m.params, generator, files, { signal: abort.signal, onProgress: (percent) => send({ type: 'progress', id: m.id, percent }) })
      .then((result) => send({ type: 'done', id: m.id, result }))
      .catch((e: unknown) => send({ type: 'failed', id: m.id, error: jobErrorOf(e) }))
      .finally(() => running.delete(m.id));
  });
  send({ type: 'ready', capabilities: capabilitiesOf(generator) });
} catch (e) {
  send({ type: 'init_failed', message: e instanceof Error ? e.message : String(e) });
  process.exit(1);
}
