// Benchmarks: each suite returns named figures; the runner prints JSON for tools and a table for people.
export interface BenchOptions {
  json: boolean;
  only?: string[];
}

export async function runBenchmarks(opts: BenchOptions): Promise<void> {
  const results: Record<string, unknown> = {};
  if (opts.json) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
  else console.log('no benchmarks yet');
}
