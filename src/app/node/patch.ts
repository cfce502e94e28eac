// Installs tsgi's request/response overrides on one of node's own prototypes, each one
// choosing per object: tsgi's code for tsgi's requests and responses (they carry
// `tsgiOwner`), node's original code for everything else (the app's own http clients and
// servers keep working unchanged).

type Method = (this: unknown, ...args: unknown[]) => unknown;

function isTsgi(obj: unknown): boolean {
  return (obj as { tsgiOwner?: unknown }).tsgiOwner !== undefined;
}

export function delegateToTsgi(target: object, source: object, names: string[]): void {
  for (const name of names) {
    const mine = Object.getOwnPropertyDescriptor(source, name);
    if (mine === undefined) throw new Error(`no ${name} to install`);
    let theirs: PropertyDescriptor | undefined;
    for (
      let p: object | null = target;
      p !== null && theirs === undefined;
      p = Object.getPrototypeOf(p) as object | null
    ) {
      theirs = Object.getOwnPropertyDescriptor(p, name);
    }
    if (typeof mine.value === 'function') {
      const tsgi = mine.value as Method;
      const node = theirs?.value as Method | undefined;
      Object.defineProperty(target, name, {
        configurable: true,
        writable: true,
        value: function (this: unknown, ...args: unknown[]): unknown {
          if (isTsgi(this)) return tsgi.apply(this, args);
          return node?.apply(this, args);
        },
      });
    } else if (mine.get !== undefined) {
      const tsgiGet = mine.get;
      const nodeGet = theirs?.get;
      Object.defineProperty(target, name, {
        configurable: true,
        get(this: unknown): unknown {
          return isTsgi(this) ? tsgiGet.call(this) : nodeGet?.call(this);
        },
        set: theirs?.set,
      });
    }
  }
}
