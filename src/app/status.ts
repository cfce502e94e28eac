// Reason phrases (RFC 9110 section 15 plus the registered extras) and status-line
// normalisation for startResponse: '200 OK' passes through, '404' or 404 gets its phrase.

const REASONS: Record<number, string> = {
  100: 'Continue',
  101: 'Switching Protocols',
  102: 'Processing',
  103: 'Early Hints',
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  203: 'Non-Authoritative Information',
  204: 'No Content',
  205: 'Reset Content',
  206: 'Partial Content',
  207: 'Multi-Status',
  208: 'Already Reported',
  226: 'IM Used',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  304: 'Not Modified',
  305: 'Use Proxy',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  417: 'Expectation Failed',
  418: "I'm a Teapot",
  421: 'Misdirected Request',
  422: 'Unprocessable Content',
  423: 'Locked',
  424: 'Failed Dependency',
  425: 'Too Early',
  426: 'Upgrade Required',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  451: 'Unavailable For Legal Reasons',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
  506: 'Variant Also Negotiates',
  507: 'Insufficient Storage',
  508: 'Loop Detected',
  510: 'Not Extended',
  511: 'Network Authentication Required',
};

/** The standard reason phrase of `code`, or '' when the code has none. */
export function reasonPhrase(code: number): string {
  return REASONS[code] ?? '';
}

/** The full status line text for a numeric status: '404 Not Found' (or '599' when unknown). */
export function statusText(code: number): string {
  const reason = REASONS[code];
  return reason === undefined ? String(code) : code + ' ' + reason;
}

/**
 * Normalises a startResponse status. Returns the status text to hand to native
 * ('200 OK', '404 Not Found', '299 Custom'), or null when it is not acceptable: not three
 * digits in 100..999, a character other than a space after the digits, or a control
 * character (CR, LF, NUL, ...) anywhere in the reason.
 */
export function normalizeStatus(status: unknown): string | null {
  if (typeof status === 'number') {
    if (!Number.isInteger(status) || status < 100 || status > 999) return null;
    return statusText(status);
  }
  if (typeof status !== 'string') return null;
  const len = status.length;
  if (len < 3) return null;
  const c0 = status.charCodeAt(0);
  const c1 = status.charCodeAt(1);
  const c2 = status.charCodeAt(2);
  if (c0 < 49 || c0 > 57 || c1 < 48 || c1 > 57 || c2 < 48 || c2 > 57) return null;
  if (len === 3) return statusText((c0 - 48) * 100 + (c1 - 48) * 10 + (c2 - 48));
  if (status.charCodeAt(3) !== 32) return null;
  if (len === 4) return statusText((c0 - 48) * 100 + (c1 - 48) * 10 + (c2 - 48));
  for (let i = 4; i < len; i++) {
    const c = status.charCodeAt(i);
    // reason-phrase = *( HTAB / SP / VCHAR / obs-text ); no other controls, nothing above latin1.
    if ((c < 32 && c !== 9) || c === 127 || c > 255) return null;
  }
  return status;
}
