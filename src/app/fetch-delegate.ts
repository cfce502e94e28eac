// The lazy Request and the lightweight Response keep a real undici object's prototype in
// their chain (instanceof holds) and implement the hot members themselves. Every other
// member of the real prototype is defined here to build the real object once and delegate,
// so code using the full Fetch API sees undici's behaviour.

/**
 * Defines on `target` every getter and method of `source` that `target` does not define
 * itself, each forwarding to `real(this)`.
 */
export function delegateMissingMembers<T>(target: object, source: object, real: (self: T) => object): void {
  for (const key of Object.getOwnPropertyNames(source)) {
    if (key === 'constructor' || Object.hasOwn(target, key)) continue;
    const desc = Object.getOwnPropertyDescriptor(source, key)!;
    if (typeof desc.get === 'function') {
      Object.defineProperty(target, key, {
        configurable: true,
        enumerable: desc.enumerable ?? false,
        get(this: T) {
          return (real(this) as Record<string, unknown>)[key];
        },
      });
    } else if (typeof desc.value === 'function') {
      Object.defineProperty(target, key, {
        configurable: true,
        writable: true,
        enumerable: desc.enumerable ?? false,
        value(this: T, ...args: unknown[]) {
          const obj = real(this) as Record<string, (...a: unknown[]) => unknown>;
          return obj[key]!(...args);
        },
      });
    }
  }
}
