// Builds the request vars handed to the app: for HTTP, what nginx's stock uwsgi_params
// would send for the same request (docs/http.md, "The environ"); for uwsgi, exactly the packet's
// vars. Output goes into the Server's blob string and meta offsets (4 per var:
// key start, key end, value start, value end), the layout src/native/types.ts documents.
#ifndef TSGI_PROTO_VARS_H_
#define TSGI_PROTO_VARS_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/errors.h"
#include "common/listener_spec.h"
#include "proto/http1.h"
#include "proto/uwsgi.h"

namespace tsgi {

struct VarsOut {
  std::string* blob;
  uint32_t* meta;
  size_t meta_cap;  // vars that fit in meta
  size_t nvars = 0;
  uint32_t pktsize = 0;  // size of the equivalent uwsgi vars block, for the log line
};

struct PeerInfo {
  const std::string* remote_addr;
  const std::string* remote_port;
  const ListenerSpec* listener;
};

// HTTP: CGI vars in uwsgi_params order, then one HTTP_<NAME> per header. Returns OK or an
// error (HTTP_BAD_PATH, HTTP_NUL_IN_PATH, HTTP_TOO_MANY_HEADERS when meta is full).
ErrorCode BuildHttpVars(const HttpRequestHead& head, const PeerInfo& peer, VarsOut* out);

// node:http apps only (ServerOptions::raw_headers): the header lines as the client sent
// them (name case and order kept, repeats kept as separate lines, names with '_' too), for
// `req.rawHeaders`. Each line is appended to the blob and gets 4 offsets (name start, name
// end, value start, value end) in meta right after the out->nvars vars, which stay as they
// are. Returns the number of lines, or -1 when meta has no room for them.
long AppendRawHeaders(const HttpRequestHead& head, VarsOut* out);

// uwsgi: the blob is the raw vars block itself (no copy of keys and values is made); meta
// offsets point into it.
void BuildUwsgiVars(const char* block, size_t block_len, const UwsgiVar* vars, size_t n, VarsOut* out);

// FastCGI and SCGI: the vars as sent, as for uwsgi, plus PATH_INFO when the web server sent
// none (nginx's stock fastcgi_params and scgi_params do not; uwsgi_params sends
// $document_uri): DOCUMENT_URI's value, else REQUEST_URI's path decoded as for HTTP. A
// SCRIPT_NAME equal to that PATH_INFO is then left out, since nginx's $fastcgi_script_name
// is the whole path when no split is configured and SCRIPT_NAME + PATH_INFO would name it
// twice (docs/protocol-fastcgi.md, "The environ"). Returns OK, or HTTP_BAD_PATH /
// HTTP_NUL_IN_PATH from decoding REQUEST_URI.
ErrorCode BuildCgiVars(const char* block, size_t block_len, const UwsgiVar* vars, size_t n, VarsOut* out);

}  // namespace tsgi

#endif  // TSGI_PROTO_VARS_H_
