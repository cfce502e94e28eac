// PATH_INFO from a request-target: percent-decoding and dot-segment removal, the way nginx
// computes $document_uri for uwsgi_params, but strict where uWSGI 2.0 is defective
// (docs/protocol-uwsgi.md, "PATH_INFO on the HTTP side"): %2e%2e counts as ".." (decode
// before removing dot segments), %00 is refused, and malformed escapes are refused instead
// of becoming NUL.
#ifndef TSGI_PROTO_URI_H_
#define TSGI_PROTO_URI_H_

#include <cstddef>

#include "common/errors.h"
#include "common/span.h"

namespace tsgi {

// Decodes `path` (the part of the request-target before '?' / '#') into out[0..out_cap).
// The result is never longer than the input, so out_cap >= path.len always suffices.
// For absolute-form targets ("http://host/p") the caller passes only the path part.
// Returns the decoded length, or -1 with *err = HTTP_BAD_PATH (bad %XX escape, path not
// starting with '/', or ".." climbing above the root) or HTTP_NUL_IN_PATH (%00).
// Dot segments follow RFC 3986 5.2.4: "/a/./b" -> "/a/b", "/a/b/../c" -> "/a/c",
// "/a/.." -> "/"; "//" is kept as it is (nginx merges slashes only with merge_slashes).
long DecodePathInfo(Span path, char* out, size_t out_cap, ErrorCode* err);

}  // namespace tsgi

#endif  // TSGI_PROTO_URI_H_
