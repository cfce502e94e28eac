// --log-format / --logformat: uWSGI's request log format with %(name) variables (the uWSGI
// docs, "Formatting uWSGI requests logs"; core/logging.c). Compiled once at start-up into
// pieces the native request log appends per request (native/src/loop/request_log.h); an
// unknown name is a start-up error, as it is in uWSGI.

import { ConfigError } from '../errors';

/** Values the server computes per request (request_log.cc, LogVarByName). */
const COMPUTED = [
  'method',
  'uri',
  'proto',
  'status',
  'msecs',
  'micros',
  'secs',
  'size',
  'hsize',
  'rsize',
  'headers',
  'addr',
  'pid',
  'wid',
  'core',
  'vars',
  'pktsize',
  'time',
  'epoch',
  'ltime',
  'ctime',
  'switches',
] as const;

/** Names that stand for a request var, copied when the request is dispatched. */
const CAPTURED: Readonly<Record<string, string>> = {
  host: 'HTTP_HOST',
  uagent: 'HTTP_USER_AGENT',
  referer: 'HTTP_REFERER',
  user: 'REMOTE_USER',
  cl: 'CONTENT_LENGTH',
};

export type LogFormatItem = { lit: string } | { var: string } | { capture: string };

/** The names %(…) accepts, for messages and docs/config.md. */
export const LOG_FORMAT_NAMES: readonly string[] = [...COMPUTED, ...Object.keys(CAPTURED), 'var.NAME'];

/** Compiles a format; throws TSGI_ERR_INVALID_VALUE naming the first unknown variable. */
export function compileLogFormat(format: string): LogFormatItem[] {
  const items: LogFormatItem[] = [];
  let lit = '';
  const re = /%\(([^)]*)\)/g;
  let last = 0;
  for (let m = re.exec(format); m !== null; m = re.exec(format)) {
    lit += format.slice(last, m.index);
    last = m.index + m[0].length;
    const name = m[1]!;
    let item: LogFormatItem;
    if ((COMPUTED as readonly string[]).includes(name)) item = { var: name };
    else if (Object.hasOwn(CAPTURED, name)) item = { capture: CAPTURED[name]! };
    else if (name.startsWith('var.') && name.length > 4) item = { capture: name.slice(4) };
    else {
      throw new ConfigError(
        'TSGI_ERR_INVALID_VALUE',
        `--log-format: unknown variable %(${name}) (known: ${LOG_FORMAT_NAMES.join(', ')})`,
      );
    }
    if (lit !== '') items.push({ lit });
    lit = '';
    items.push(item);
  }
  lit += format.slice(last);
  if (lit !== '') items.push({ lit });
  return items;
}
