// Test-only exports over the pure HTTP parsers, used by the conformance runner and the
// binding tests. They copy everything they return, so no JS value points into native memory.
//
//   _parseHttpRequest(bytes, opts?) -> {consumed, method, target, path, query, versionMajor,
//       versionMinor, headers: [[name, value]...], framing, contentLength, keepAlive,
//       expectContinue, upgrade, hostIndex} | {consumed: 0} | {error, status}
//     opts: {maxHeadSize?, maxTargetLen?, requireHost?}
//   _decodeChunked(bytes) -> {status: 'done'|'needMore'|'error', data, consumed, error?}
//   _chunkedDecoder() -> {feed(bytes)}: the same result for each piece of a split body, with
//     the decoder state kept between calls.
// Strings are made from the raw bytes as latin1, so every byte survives the round trip.
#include <memory>
#include <string>

#include "binding/exports.h"
#include "proto/chunked.h"
#include "proto/http1.h"

namespace tsgi {
namespace {

Napi::Value Latin1(Napi::Env env, Span s) {
  napi_value v;
  napi_create_string_latin1(env, s.data == nullptr ? "" : s.data, s.len, &v);
  return Napi::Value(env, v);
}

bool GetBytes(const Napi::CallbackInfo& info, size_t index, const char** data, size_t* len) {
  if (info.Length() <= index || !info[index].IsTypedArray()) {
    Napi::TypeError::New(info.Env(), "expected a Uint8Array").ThrowAsJavaScriptException();
    return false;
  }
  Napi::Uint8Array bytes = info[index].As<Napi::Uint8Array>();
  *data = reinterpret_cast<const char*>(bytes.Data());
  *len = bytes.ByteLength();
  return true;
}

void ReadOptions(const Napi::CallbackInfo& info, HttpParseOptions* opts) {
  if (info.Length() < 2 || !info[1].IsObject()) return;
  Napi::Object o = info[1].As<Napi::Object>();
  Napi::Value v;
  if (o.Get("maxHeadSize").UnwrapTo(&v) && v.IsNumber()) {
    opts->max_head_size = static_cast<size_t>(v.As<Napi::Number>().Int64Value());
  }
  if (o.Get("maxTargetLen").UnwrapTo(&v) && v.IsNumber()) {
    opts->max_target_len = static_cast<size_t>(v.As<Napi::Number>().Int64Value());
  }
  if (o.Get("requireHost").UnwrapTo(&v) && v.IsBoolean()) {
    opts->require_host = v.As<Napi::Boolean>().Value();
  }
}

const char* FramingName(BodyFraming f) {
  switch (f) {
    case BodyFraming::kLength:
      return "length";
    case BodyFraming::kChunked:
      return "chunked";
    default:
      return "none";
  }
}

Napi::Value ErrorResult(Napi::Env env, ErrorCode err) {
  Napi::Object r = Napi::Object::New(env);
  r.Set("error", ErrorName(err));
  r.Set("status", ErrorStatus(err));
  return r;
}

Napi::Value ParseHttpRequest(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* data;
  size_t len;
  if (!GetBytes(info, 0, &data, &len)) return env.Undefined();
  HttpParseOptions opts;
  ReadOptions(info, &opts);
  // The result struct is large; keep it off the (possibly small) JS thread stack.
  auto head = std::make_unique<HttpRequestHead>();
  ErrorCode err = ErrorCode::OK;
  int64_t rc = ParseHttpRequestHead(data, len, opts, head.get(), &err);
  if (rc < 0) return ErrorResult(env, err);
  Napi::Object r = Napi::Object::New(env);
  r.Set("consumed", Napi::Number::New(env, static_cast<double>(rc)));
  if (rc == 0) return r;
  r.Set("method", Latin1(env, head->method));
  r.Set("target", Latin1(env, head->target));
  r.Set("path", Latin1(env, head->path));
  r.Set("query", Latin1(env, head->query));
  r.Set("versionMajor", head->version_major);
  r.Set("versionMinor", head->version_minor);
  Napi::Array headers = Napi::Array::New(env, head->num_headers);
  for (size_t i = 0; i < head->num_headers; i++) {
    Napi::Array pair = Napi::Array::New(env, 2);
    pair.Set(0u, Latin1(env, head->headers[i].name));
    pair.Set(1u, Latin1(env, head->headers[i].value));
    headers.Set(static_cast<uint32_t>(i), pair);
  }
  r.Set("headers", headers);
  r.Set("framing", FramingName(head->framing));
  // Numbers are exact up to 2^53; larger lengths (never accepted by limit-post) come as BigInt.
  if (head->content_length <= (uint64_t{1} << 53)) {
    r.Set("contentLength", Napi::Number::New(env, static_cast<double>(head->content_length)));
  } else {
    r.Set("contentLength", Napi::BigInt::New(env, head->content_length));
  }
  r.Set("keepAlive", head->keep_alive);
  r.Set("expectContinue", head->expect_continue);
  r.Set("upgrade", head->upgrade);
  r.Set("hostIndex", head->host_index);
  return r;
}

const char* StatusName(ChunkedStatus st) {
  switch (st) {
    case ChunkedStatus::kDone:
      return "done";
    case ChunkedStatus::kError:
      return "error";
    default:
      return "needMore";
  }
}

// Runs the decoder over one input until it needs more, ends or fails; data is concatenated.
Napi::Value Decode(Napi::Env env, ChunkedDecoder* d, const char* in, size_t len) {
  std::string out;
  size_t off = 0;
  ChunkedStatus st;
  ErrorCode err = ErrorCode::OK;
  for (;;) {
    size_t used = 0;
    Span data;
    st = ChunkedDecode(d, in + off, len - off, ChunkedLimits(), &used, &data, &err);
    off += used;
    if (st != ChunkedStatus::kData) break;
    out.append(data.data, data.len);
  }
  Napi::Object r = Napi::Object::New(env);
  r.Set("status", StatusName(st));
  Napi::Uint8Array bytes = Napi::Uint8Array::New(env, out.size());
  if (!out.empty()) std::memcpy(bytes.Data(), out.data(), out.size());
  r.Set("data", bytes);
  r.Set("consumed", Napi::Number::New(env, static_cast<double>(off)));
  if (st == ChunkedStatus::kError) r.Set("error", ErrorName(err));
  return r;
}

Napi::Value DecodeChunked(const Napi::CallbackInfo& info) {
  const char* data;
  size_t len;
  if (!GetBytes(info, 0, &data, &len)) return info.Env().Undefined();
  ChunkedDecoder d;
  return Decode(info.Env(), &d, data, len);
}

Napi::Value ChunkedFeed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Value state;
  if (!info.This().As<Napi::Object>().Get("_decoder").UnwrapTo(&state) || !state.IsExternal()) {
    Napi::TypeError::New(env, "feed() called on a foreign object").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const char* data;
  size_t len;
  if (!GetBytes(info, 0, &data, &len)) return env.Undefined();
  return Decode(env, state.As<Napi::External<ChunkedDecoder>>().Data(), data, len);
}

Napi::Value NewChunkedDecoder(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  auto* d = new ChunkedDecoder();
  o.Set("_decoder",
        Napi::External<ChunkedDecoder>::New(env, d, [](Napi::Env, ChunkedDecoder* p) { delete p; }));
  o.Set("feed", Napi::Function::New(env, ChunkedFeed, "feed"));
  return o;
}

}  // namespace

void RegisterHttpTestApi(Napi::Env env, Napi::Object exports) {
  exports.Set("_parseHttpRequest", Napi::Function::New(env, ParseHttpRequest, "_parseHttpRequest"));
  exports.Set("_decodeChunked", Napi::Function::New(env, DecodeChunked, "_decodeChunked"));
  exports.Set("_chunkedDecoder", Napi::Function::New(env, NewChunkedDecoder, "_chunkedDecoder"));
}

}  // namespace tsgi
