// Where the read-only reference inputs live: `../shared` next to the repository (never
// copied into it). A clone made elsewhere (for example a CI check in /tmp) finds them next
// to the repository it was cloned from, through the `origin` remote; TSGI_SHARED_DIR
// overrides both. Throws, naming every place tried, when none exists: tests that need these
// files fail loudly instead of skipping.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const repoRoot = path.resolve(__dirname, '..');

function originDir(): string | null {
  try {
    const url = execFileSync('git', ['-C', repoRoot, 'remote', 'get-url', 'origin'], { encoding: 'utf8' }).trim();
    return url.startsWith('/') ? url : null;
  } catch {
    return null;
  }
}

export function sharedDir(): string {
  const tried: string[] = [];
  const candidates = [process.env.TSGI_SHARED_DIR, path.resolve(repoRoot, '..', 'shared')];
  const origin = originDir();
  if (origin !== null) candidates.push(path.resolve(origin, '..', 'shared'));
  for (const c of candidates) {
    if (c === undefined || c === '') continue;
    tried.push(c);
    if (fs.existsSync(path.join(c, 'conformance'))) return c;
  }
  throw new Error(`the shared reference directory was not found (tried ${tried.join(', ')}); set TSGI_SHARED_DIR`);
}
