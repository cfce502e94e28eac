// A strict reader of the Dockerfile subset deploy/container/Dockerfile uses, for
// scripts/container-steps.mjs and the manifest tests. It follows the Dockerfile reference
// (https://docs.docker.com/reference/dockerfile/): `#` comment lines, parser directives on the
// first lines, `\` line continuations, exec form (a JSON array) and shell form. An instruction
// or a flag it does not know is an error, never skipped: a step it cannot honour must not look
// checked.

const INSTRUCTIONS = new Set([
  'FROM',
  'WORKDIR',
  'COPY',
  'RUN',
  'ARG',
  'ENV',
  'USER',
  'EXPOSE',
  'STOPSIGNAL',
  'HEALTHCHECK',
  'CMD',
  'LABEL',
]);

export class DockerfileError extends Error {
  constructor(line, message) {
    super(`Dockerfile line ${line}: ${message}`);
    this.code = 'DOCKERFILE_UNSUPPORTED';
  }
}

/** Joins continuation lines; returns [{ line, text }] of logical lines (comments dropped). */
export function logicalLines(source) {
  const out = [];
  let pending = null;
  source.split(/\r?\n/).forEach((raw, i) => {
    const trimmed = raw.trim();
    // Comment and empty lines inside a continued instruction are removed too (the reference's
    // rule), so a file whose last instruction is continued ends inside it.
    if (trimmed.startsWith('#') || trimmed === '') return;
    pending ??= { line: i + 1, text: '' };
    if (trimmed.endsWith('\\')) {
      pending.text += `${trimmed.slice(0, -1).trimEnd()} `;
      return;
    }
    pending.text += trimmed;
    out.push(pending);
    pending = null;
  });
  if (pending !== null) throw new DockerfileError(pending.line, 'the file ends inside a continued line');
  return out;
}

/** A JSON array of strings (exec form), or null when `text` is shell form. */
function execForm(line, text) {
  if (!text.startsWith('[')) return null;
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    throw new DockerfileError(line, `not a JSON array: ${text}`);
  }
  if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== 'string')) {
    throw new DockerfileError(line, `exec form must be a non-empty array of strings: ${text}`);
  }
  return value;
}

/** Leading `--name=value` flags of an instruction, checked against the ones allowed. */
function flags(line, words, allowed) {
  const found = {};
  while (words.length > 0 && words[0].startsWith('--')) {
    const m = /^--([a-z-]+)=(.+)$/.exec(words.shift());
    if (!m || !allowed.includes(m[1])) throw new DockerfileError(line, `unsupported flag ${m ? `--${m[1]}` : ''}`);
    found[m[1]] = m[2];
  }
  return found;
}

/** key=value pairs (ENV, LABEL, ARG); values may be double-quoted. */
function pairs(line, text) {
  const out = [];
  const re = /\s*([A-Za-z_][A-Za-z0-9_.-]*)=("(?:[^"\\]|\\.)*"|\S*)/y;
  let m;
  while (re.lastIndex < text.length && (m = re.exec(text)) !== null) {
    out.push([m[1], m[2].startsWith('"') ? JSON.parse(m[2]) : m[2]]);
  }
  if (re.lastIndex < text.trimEnd().length) throw new DockerfileError(line, `expected KEY=VALUE pairs: ${text}`);
  return out;
}

function parseInstruction({ line, text }) {
  const m = /^(\S+)\s*(.*)$/.exec(text);
  const keyword = m[1].toUpperCase();
  const rest = m[2];
  if (!INSTRUCTIONS.has(keyword)) throw new DockerfileError(line, `instruction ${m[1]} is not supported`);
  const words = rest.split(/\s+/).filter(Boolean);
  switch (keyword) {
    case 'FROM': {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      if (!f) throw new DockerfileError(line, `FROM image [AS name] expected: ${rest}`);
      return { keyword, line, image: f[1], name: f[2] ?? null };
    }
    case 'WORKDIR':
    case 'USER':
    case 'STOPSIGNAL':
      if (words.length !== 1) throw new DockerfileError(line, `${keyword} takes one value`);
      return { keyword, line, value: words[0] };
    case 'COPY': {
      const opts = flags(line, words, ['from']);
      if (words.length < 2 || execForm(line, rest) !== null) throw new DockerfileError(line, 'COPY src... dest');
      return { keyword, line, from: opts.from ?? null, sources: words.slice(0, -1), dest: words.at(-1) };
    }
    case 'RUN': {
      if (rest.startsWith('--')) throw new DockerfileError(line, 'RUN flags are not supported');
      const exec = execForm(line, rest);
      return { keyword, line, exec, shell: exec ? null : rest };
    }
    case 'CMD': {
      const exec = execForm(line, rest);
      if (!exec) throw new DockerfileError(line, 'CMD must be exec form (a shell as PID 1 would not pass SIGTERM on)');
      return { keyword, line, exec };
    }
    case 'HEALTHCHECK': {
      const opts = flags(line, words, ['interval', 'timeout', 'start-period', 'retries']);
      if (words[0] !== 'CMD') throw new DockerfileError(line, 'HEALTHCHECK [options] CMD [...] expected');
      const exec = execForm(line, rest.slice(rest.indexOf('CMD') + 3).trim());
      if (!exec) throw new DockerfileError(line, 'HEALTHCHECK CMD must be exec form');
      return { keyword, line, options: opts, exec };
    }
    case 'ARG': {
      const a = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/.exec(rest);
      if (!a) throw new DockerfileError(line, `ARG NAME[=default] expected: ${rest}`);
      return { keyword, line, name: a[1], value: a[2] ?? null };
    }
    case 'ENV':
    case 'LABEL':
      return { keyword, line, pairs: pairs(line, rest) };
    case 'EXPOSE':
      if (words.length === 0 || words.some((w) => !/^\d{1,5}(\/tcp)?$/.test(w))) {
        throw new DockerfileError(line, `EXPOSE takes TCP ports: ${rest}`);
      }
      return { keyword, line, ports: words.map((w) => Number.parseInt(w, 10)) };
  }
  throw new DockerfileError(line, `instruction ${keyword} is not handled`);
}

/** Parses a Dockerfile into stages: [{ image, name, line, steps: [instruction…] }]. */
export function parseDockerfile(source) {
  const stages = [];
  for (const logical of logicalLines(source)) {
    const ins = parseInstruction(logical);
    if (ins.keyword === 'FROM') {
      stages.push({ image: ins.image, name: ins.name, line: ins.line, steps: [] });
    } else if (stages.length === 0) {
      throw new DockerfileError(ins.line, `${ins.keyword} before the first FROM`);
    } else {
      stages.at(-1).steps.push(ins);
    }
  }
  if (stages.length === 0) throw new DockerfileError(1, 'no FROM');
  return stages;
}

/** The last instruction of a kind in a stage (CMD, USER, HEALTHCHECK…: the last one counts). */
export function lastOf(stage, keyword) {
  return stage.steps.filter((s) => s.keyword === keyword).at(-1) ?? null;
}

/**
 * .dockerignore patterns as matchers of context-relative paths, with Docker's rules for what
 * the files here use: patterns anchored at the context's root, `*` and `?` within one path
 * element, `**` across any number of them (a leading `**` and slash matches at the root too),
 * and a matched directory hides everything under it. Exceptions (`!`) are refused rather than
 * half-done.
 */
export function dockerignoreMatchers(text) {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((p) => {
      if (p.startsWith('!')) throw new Error(`.dockerignore exceptions (${p}) are not supported`);
      const body = p
        .replace(/^\/+|\/+$/g, '')
        .split(/(\*\*\/|\*\*|\*|\?)/)
        .map((t) => {
          if (t === '**/') return '(?:.*/)?';
          if (t === '**') return '.*';
          if (t === '*') return '[^/]*';
          if (t === '?') return '[^/]';
          return t.replace(/[.+^${}()|[\]\\]/g, '\\$&');
        })
        .join('');
      return new RegExp(`^${body}(?:/.*)?$`);
    });
}
