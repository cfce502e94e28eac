// --touch-reload and --touch-chain-reload: a change of a file's modification time triggers a
// graceful (or chain) reload. Checked once a second, like uWSGI's master cycle.

import fs from 'node:fs';
import type { Config } from '../config';

function mtime(file: string): number {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

export function watchTouchFiles(config: Config, on: { reload(): void; chainReload(): void }): () => void {
  const files = [
    ...config.touchReload.map((f) => ({ f, act: on.reload })),
    ...config.touchChainReload.map((f) => ({ f, act: on.chainReload })),
  ].map((w) => ({ ...w, last: mtime(w.f) }));
  if (files.length === 0) return () => {};
  const timer = setInterval(() => {
    for (const w of files) {
      const now = mtime(w.f);
      if (now !== w.last) {
        w.last = now;
        w.act();
      }
    }
  }, 1000);
  timer.unref();
  return () => clearInterval(timer);
}
