// Names and log reasons of native error codes (onData(id, null, code), onAbort(id, code)),
// read from the addon's own catalogue (native/src/common/errors.h) so the two can never
// disagree.

import { addon, type NativeErrorInfo } from '../native';

let catalogue: Record<number, NativeErrorInfo> | null = null;

function lookup(code: number): NativeErrorInfo | undefined {
  if (catalogue === null) catalogue = addon.errorCatalogue();
  return catalogue[code];
}

/** Stable upper-case name of a native error code ("HTTP_TRUNCATED_BODY"), or "NATIVE_<n>". */
export function nativeErrorName(code: number): string {
  return lookup(code)?.name ?? 'NATIVE_' + code;
}

/** One-line reason of a native error code for logs and error messages. */
export function nativeErrorReason(code: number): string {
  return lookup(code)?.reason ?? 'native error ' + code;
}
