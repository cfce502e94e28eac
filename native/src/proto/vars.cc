#include "proto/vars.h"

#include <cstring>

#include "proto/uri.h"

namespace tsgi {

namespace {

class Writer {
 public:
  explicit Writer(VarsOut* out) : out_(out) {}

  bool full() const { return out_->nvars >= out_->meta_cap; }

  // Appends key and value as one var.
  void Var(const char* key, size_t klen, const char* val, size_t vlen) {
    uint32_t* m = out_->meta + out_->nvars * 4;
    std::string& b = *out_->blob;
    m[0] = static_cast<uint32_t>(b.size());
    b.append(key, klen);
    m[1] = static_cast<uint32_t>(b.size());
    m[2] = m[1];
    b.append(val, vlen);
    m[3] = static_cast<uint32_t>(b.size());
    out_->nvars++;
    out_->pktsize += static_cast<uint32_t>(4 + klen + vlen);
  }
  void Var(const char* key, Span v) { Var(key, std::strlen(key), v.data, v.len); }
  void Var(const char* key, const std::string& v) { Var(key, std::strlen(key), v.data(), v.size()); }

  // Starts a var whose value is appended piecewise with Append(); closed by EndVar().
  void BeginVar(const char* key, size_t klen) {
    uint32_t* m = out_->meta + out_->nvars * 4;
    std::string& b = *out_->blob;
    m[0] = static_cast<uint32_t>(b.size());
    b.append(key, klen);
    m[1] = static_cast<uint32_t>(b.size());
    m[2] = m[1];
  }
  void Append(const char* p, size_t n) { out_->blob->append(p, n); }
  void EndVar() {
    uint32_t* m = out_->meta + out_->nvars * 4;
    m[3] = static_cast<uint32_t>(out_->blob->size());
    out_->pktsize += 4 + (m[1] - m[0]) + (m[3] - m[2]);
    out_->nvars++;
  }
  std::string& blob() { return *out_->blob; }

 private:
  VarsOut* out_;
};

// "HTTP_" + name upper-cased with '-' mapped to '_' (CGI/RFC 3875 4.1.18).
void AppendCgiHeaderName(std::string* b, Span name) {
  b->append("HTTP_", 5);
  for (size_t i = 0; i < name.len; i++) {
    char ch = name.data[i];
    if (ch >= 'a' && ch <= 'z')
      ch = static_cast<char>(ch - 32);
    else if (ch == '-')
      ch = '_';
    b->push_back(ch);
  }
}

bool HasUnderscore(Span s) {
  return std::memchr(s.data, '_', s.len) != nullptr;
}

// Host without its port (nginx's $host), used as SERVER_NAME.
Span HostName(Span host) {
  if (host.len > 0 && host.data[0] == '[') {
    const char* end = static_cast<const char*>(std::memchr(host.data, ']', host.len));
    if (end) return Span{host.data, static_cast<size_t>(end - host.data) + 1};
    return host;
  }
  const char* colon = static_cast<const char*>(std::memchr(host.data, ':', host.len));
  if (colon) return Span{host.data, static_cast<size_t>(colon - host.data)};
  return host;
}

// A header's value as the app sees it: for an absolute-form target, Host is the target's
// authority (RFC 9112 3.2.2: the server MUST ignore the Host field and use the target's).
// Host may appear once only (the parser refuses a repeat), so no other line is affected.
Span HostValue(const HttpRequestHead& head, const HttpHeader& h) {
  if (head.form == TargetForm::kAbsolute && head.host_index >= 0 && &h == &head.headers[head.host_index]) {
    return head.authority;
  }
  return h.value;
}

}  // namespace

ErrorCode BuildHttpVars(const HttpRequestHead& head, const PeerInfo& peer, VarsOut* out) {
  Writer w(out);
  // 14 fixed vars plus one per header (and HTTP_HOST set from an absolute-form target) must
  // fit; the parser caps headers at kMaxHeaders.
  if (out->meta_cap < 15 + head.num_headers) return ErrorCode::HTTP_TOO_MANY_HEADERS;

  Span content_type{}, content_length{};
  for (size_t i = 0; i < head.num_headers; i++) {
    const HttpHeader& h = head.headers[i];
    if (EqualsLowerAscii(h.name, "content-type", 12))
      content_type = h.value;
    else if (EqualsLowerAscii(h.name, "content-length", 14))
      content_length = h.value;
  }

  // Order and names follow nginx's uwsgi_params (docs/protocol-uwsgi.md, "What nginx 1.22
  // sends"). Absent CONTENT_TYPE / CONTENT_LENGTH are sent as empty strings, as nginx does.
  w.Var("QUERY_STRING", head.query);
  w.Var("REQUEST_METHOD", head.method);
  w.Var("CONTENT_TYPE", content_type);
  w.Var("CONTENT_LENGTH", content_length);
  // REQUEST_URI is the target as sent for the origin- and asterisk-forms; for the
  // absolute-form it is what nginx's $request_uri holds, the target from its path on
  // ("/p?q" for "http://h/p?q", with "/" put in front of an empty path).
  if (head.form == TargetForm::kAbsolute) {
    const char* from = head.authority.data + head.authority.len;
    size_t n = static_cast<size_t>(head.target.data + head.target.len - from);
    w.BeginVar("REQUEST_URI", 11);
    if (head.path.len == 0) w.Append("/", 1);
    w.Append(from, n);
    w.EndVar();
  } else {
    w.Var("REQUEST_URI", head.target);
  }

  // PATH_INFO: decoded and normalised into the blob directly (never longer than the input).
  // The asterisk-form ("OPTIONS *", the server as a whole) has no path: PATH_INFO is empty,
  // which CGI's grammar allows and "*" would not (RFC 3875 4.1.5).
  w.BeginVar("PATH_INFO", 9);
  std::string& b = w.blob();
  if (head.form == TargetForm::kAbsolute && head.path.len == 0) {
    b.push_back('/');
  } else if (head.form != TargetForm::kAsterisk) {
    size_t at = b.size();
    b.resize(at + head.path.len);
    ErrorCode err = ErrorCode::OK;
    long n = DecodePathInfo(head.path, &b[at], head.path.len, &err);
    if (n < 0) return err;
    b.resize(at + static_cast<size_t>(n));
  }
  w.EndVar();

  static const char* kProto[2] = {"HTTP/1.0", "HTTP/1.1"};
  const char* proto = kProto[head.version_minor == 1 ? 1 : 0];
  w.Var("SERVER_PROTOCOL", 15, proto, 8);
  w.Var("REQUEST_SCHEME", 14, "http", 4);
  w.Var("REMOTE_ADDR", *peer.remote_addr);
  w.Var("REMOTE_PORT", *peer.remote_port);
  w.Var("SERVER_PORT", peer.listener->port);
  if (head.host_index >= 0) {
    w.Var("SERVER_NAME", HostName(HostValue(head, head.headers[head.host_index])));
  } else if (head.form == TargetForm::kAbsolute) {
    w.Var("SERVER_NAME", HostName(head.authority));
  } else {
    w.Var("SERVER_NAME", peer.listener->host);
  }
  w.Var("SCRIPT_NAME", 11, "", 0);

  // One HTTP_<NAME> per header name; repeats are joined with ", " (RFC 9110 5.3) in
  // arrival order. Names with '_' are dropped, as nginx does by default
  // (underscores_in_headers off), so "X_Forwarded_For" cannot pose as "X-Forwarded-For".
  for (size_t i = 0; i < head.num_headers; i++) {
    const HttpHeader& h = head.headers[i];
    if (HasUnderscore(h.name)) continue;
    bool seen = false;
    for (size_t j = 0; j < i && !seen; j++) {
      seen = EqualsLowerAsciiSpan(head.headers[j].name, h.name);
    }
    if (seen) continue;
    uint32_t* m = out->meta + out->nvars * 4;
    m[0] = static_cast<uint32_t>(b.size());
    AppendCgiHeaderName(&b, h.name);
    m[1] = static_cast<uint32_t>(b.size());
    m[2] = m[1];
    Span value = HostValue(head, h);
    b.append(value.data, value.len);
    for (size_t j = i + 1; j < head.num_headers; j++) {
      if (EqualsLowerAsciiSpan(head.headers[j].name, h.name)) {
        b.append(", ", 2);
        b.append(head.headers[j].value.data, head.headers[j].value.len);
      }
    }
    m[3] = static_cast<uint32_t>(b.size());
    out->pktsize += 4 + (m[1] - m[0]) + (m[3] - m[2]);
    out->nvars++;
  }
  // An HTTP/1.0 request may carry an absolute-form target and no Host: the target's
  // authority is the Host (RFC 9112 3.2.2).
  if (head.form == TargetForm::kAbsolute && head.host_index < 0) w.Var("HTTP_HOST", head.authority);
  return ErrorCode::OK;
}

long AppendRawHeaders(const HttpRequestHead& head, VarsOut* out) {
  if (out->nvars + head.num_headers > out->meta_cap) return -1;
  std::string& b = *out->blob;
  uint32_t* m = out->meta + out->nvars * 4;
  for (size_t i = 0; i < head.num_headers; i++, m += 4) {
    const HttpHeader& h = head.headers[i];
    m[0] = static_cast<uint32_t>(b.size());
    b.append(h.name.data, h.name.len);
    m[1] = static_cast<uint32_t>(b.size());
    m[2] = m[1];
    Span value = HostValue(head, h);
    b.append(value.data, value.len);
    m[3] = static_cast<uint32_t>(b.size());
  }
  return static_cast<long>(head.num_headers);
}

namespace {

// The next var's offsets, for a var whose key and value lie in `block`, copied to the blob's
// start (the blob is the block).
void AddBlockVar(VarsOut* out, const char* block, const UwsgiVar& v) {
  uint32_t* m = out->meta + out->nvars * 4;
  m[0] = static_cast<uint32_t>(v.key.data - block);
  m[1] = m[0] + static_cast<uint32_t>(v.key.len);
  m[2] = static_cast<uint32_t>(v.value.data - block);
  m[3] = m[2] + static_cast<uint32_t>(v.value.len);
  out->nvars++;
}

}  // namespace

void BuildUwsgiVars(const char* block, size_t block_len, const UwsgiVar* vars, size_t n, VarsOut* out) {
  out->blob->assign(block, block_len);
  for (size_t i = 0; i < n && out->nvars < out->meta_cap; i++) AddBlockVar(out, block, vars[i]);
  out->pktsize = static_cast<uint32_t>(block_len);
}

ErrorCode BuildCgiVars(const char* block, size_t block_len, const UwsgiVar* vars, size_t n, VarsOut* out) {
  const UwsgiVar* document_uri = nullptr;
  const UwsgiVar* request_uri = nullptr;
  const UwsgiVar* script_name = nullptr;
  for (size_t i = 0; i < n; i++) {
    Span k = vars[i].key;
    if (k.equals("PATH_INFO", 9)) {
      BuildUwsgiVars(block, block_len, vars, n, out);
      return ErrorCode::OK;
    }
    if (k.equals("DOCUMENT_URI", 12))
      document_uri = &vars[i];
    else if (k.equals("REQUEST_URI", 11))
      request_uri = &vars[i];
    else if (k.equals("SCRIPT_NAME", 11))
      script_name = &vars[i];
  }
  std::string& b = *out->blob;
  b.assign(block, block_len);
  // The derived PATH_INFO goes after the block; its offsets are kept for the comparison
  // with SCRIPT_NAME below.
  size_t path_at = b.size();
  if (document_uri != nullptr) {
    b.append(document_uri->value.data, document_uri->value.len);
  } else if (request_uri != nullptr && request_uri->value.len > 0 && request_uri->value.data[0] == '/') {
    Span target = request_uri->value;
    const char* q = static_cast<const char*>(std::memchr(target.data, '?', target.len));
    Span path{target.data, q ? static_cast<size_t>(q - target.data) : target.len};
    b.resize(path_at + path.len);
    ErrorCode err = ErrorCode::OK;
    long len = DecodePathInfo(path, &b[path_at], path.len, &err);
    if (len < 0) return err;
    b.resize(path_at + static_cast<size_t>(len));
  } else {
    BuildUwsgiVars(block, block_len, vars, n, out);  // nothing to derive it from
    return ErrorCode::OK;
  }
  Span derived{b.data() + path_at, b.size() - path_at};
  bool drop_script = script_name != nullptr && script_name->value.len == derived.len &&
                     std::memcmp(script_name->value.data, derived.data, derived.len) == 0;
  for (size_t i = 0; i < n && out->nvars < out->meta_cap; i++) {
    if (!(drop_script && &vars[i] == script_name)) AddBlockVar(out, block, vars[i]);
  }
  out->pktsize = static_cast<uint32_t>(block_len);
  if (out->nvars < out->meta_cap) {
    // The key is appended after the value it names; the offsets say which is which.
    size_t key_at = b.size();
    b.append("PATH_INFO", 9);
    uint32_t* m = out->meta + out->nvars * 4;
    m[0] = static_cast<uint32_t>(key_at);
    m[1] = static_cast<uint32_t>(key_at + 9);
    m[2] = static_cast<uint32_t>(path_at);
    m[3] = static_cast<uint32_t>(key_at);
    out->nvars++;
    out->pktsize += static_cast<uint32_t>(4 + 9 + (key_at - path_at));
  }
  return ErrorCode::OK;
}

}  // namespace tsgi
