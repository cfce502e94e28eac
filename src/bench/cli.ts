// `tsgi bench`: placeholder entry, replaced by the benchmark harness.
export async function main(_argv: string[]): Promise<number> {
  process.stderr.write('tsgi bench: not built yet\n');
  return 2;
}
