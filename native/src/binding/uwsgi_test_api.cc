// Test-only exports for the uwsgi parser, the uwsgi encoder and PATH_INFO decoding. The
// conformance runners (test/conformance/uwsgi-fixtures.test.ts, path-info.test.ts) drive the
// pure C++ functions through these; the server never calls them.
//
// _parseUwsgi applies the same request-level rules as the socket layer (docs/protocol-uwsgi.md):
// buffer-size, modifier policy, empty block, strict CONTENT_LENGTH. Bytes cross the boundary
// as latin1 strings (one JS char per byte), which is what the request path does as well.
#include <string>
#include <vector>

#include "binding/exports.h"
#include "proto/uri.h"
#include "proto/uwsgi.h"

namespace tsgi {

namespace {

constexpr size_t kDefaultBufferSize = 8192;  // tsgi's --buffer-size default
constexpr size_t kDefaultMaxVars = 256;      // tsgi's --max-vars default
constexpr uint8_t kLastAppModifier = 99;

Napi::String Latin1(Napi::Env env, const char* data, size_t len) {
  std::u16string s(len, u'\0');
  for (size_t i = 0; i < len; i++) s[i] = static_cast<unsigned char>(data[i]);
  return Napi::String::New(env, s.data(), s.size());
}

// Reads a JS string as latin1 bytes; false (with a pending TypeError) if a char is > 0xff.
bool ToLatin1(Napi::Env env, Napi::Value v, std::string* out) {
  if (!v.IsString()) {
    Napi::TypeError::New(env, "expected a string").ThrowAsJavaScriptException();
    return false;
  }
  std::u16string s = v.As<Napi::String>().Utf16Value();
  out->resize(s.size());
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] > 0xff) {
      Napi::TypeError::New(env, "string is not latin1").ThrowAsJavaScriptException();
      return false;
    }
    (*out)[i] = static_cast<char>(s[i]);
  }
  return true;
}

void Put(Napi::Object obj, const char* key, Napi::Value value) {
  (void)obj.Set(key, value);
}

// An optional non-negative integer option; `fallback` when absent or undefined.
bool ReadSizeOption(Napi::Env env, Napi::Value opts, const char* name, size_t fallback, size_t* out) {
  *out = fallback;
  if (!opts.IsObject()) return true;
  Napi::Value v;
  if (!opts.As<Napi::Object>().Get(name).UnwrapTo(&v)) return false;
  if (v.IsUndefined()) return true;
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
  if (!(d >= 0 && d <= 1e9) || d != static_cast<double>(static_cast<size_t>(d))) {
    Napi::RangeError::New(env, std::string(name) + " must be a non-negative integer")
        .ThrowAsJavaScriptException();
    return false;
  }
  *out = static_cast<size_t>(d);
  return true;
}

Napi::Object ErrorResult(Napi::Env env, ErrorCode code) {
  Napi::Object r = Napi::Object::New(env);
  Put(r, "error", Napi::String::New(env, ErrorName(code)));
  Put(r, "status", Napi::Number::New(env, ErrorStatus(code)));
  return r;
}

// CONTENT_LENGTH must be strict, and repeated CONTENT_LENGTH vars must agree: with two
// different values the front-end and the app could each pick a different one.
ErrorCode ContentLengthOf(const UwsgiVar* vars, size_t n, bool* present, uint64_t* out) {
  *present = false;
  *out = 0;
  for (size_t i = 0; i < n; i++) {
    if (!vars[i].key.equals("CONTENT_LENGTH", 14)) continue;
    uint64_t v;
    if (!ParseUwsgiContentLength(vars[i].value, &v)) return ErrorCode::UWSGI_BAD_CONTENT_LENGTH;
    if (*present && v != *out) return ErrorCode::UWSGI_BAD_CONTENT_LENGTH;
    *present = true;
    *out = v;
  }
  return ErrorCode::OK;
}

Napi::Value ParseUwsgi(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    Napi::TypeError::New(env, "_parseUwsgi(bytes: Uint8Array, opts?)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  size_t buffer_size, max_vars;
  Napi::Value opts = info.Length() > 1 ? info[1] : env.Undefined();
  if (!ReadSizeOption(env, opts, "bufferSize", kDefaultBufferSize, &buffer_size) ||
      !ReadSizeOption(env, opts, "maxVars", kDefaultMaxVars, &max_vars)) {
    return env.Undefined();
  }
  Napi::Uint8Array bytes = info[0].As<Napi::Uint8Array>();
  const char* buf = reinterpret_cast<const char*>(bytes.Data());
  size_t len = bytes.ElementLength();

  UwsgiHeader h;
  if (!ParseUwsgiHeader(buf, len, &h)) {
    Napi::Object r = Napi::Object::New(env);
    Put(r, "incomplete", Napi::Boolean::New(env, true));
    return r;
  }
  // Both checks need only the header, so a bad packet is refused before its block is read.
  if (h.datasize > buffer_size) return ErrorResult(env, ErrorCode::UWSGI_BLOCK_TOO_LARGE);
  if (h.modifier1 > kLastAppModifier && h.modifier1 != kUwsgiModifierPing) {
    return ErrorResult(env, ErrorCode::UWSGI_BAD_MODIFIER);
  }
  if (len < kUwsgiHeaderSize + h.datasize) {
    Napi::Object r = Napi::Object::New(env);
    Put(r, "incomplete", Napi::Boolean::New(env, true));
    return r;
  }
  if (h.datasize == 0 && h.modifier1 != kUwsgiModifierPing) {
    return ErrorResult(env, ErrorCode::UWSGI_EMPTY_BLOCK);
  }
  std::vector<UwsgiVar> vars(max_vars);
  size_t n = 0;
  ErrorCode err = ParseUwsgiVars(buf + kUwsgiHeaderSize, h.datasize, vars.data(), max_vars, &n);
  if (err != ErrorCode::OK) return ErrorResult(env, err);
  bool has_cl;
  uint64_t cl;
  err = ContentLengthOf(vars.data(), n, &has_cl, &cl);
  if (err != ErrorCode::OK) return ErrorResult(env, err);

  Napi::Array list = Napi::Array::New(env, n);
  for (size_t i = 0; i < n; i++) {
    Napi::Array pair = Napi::Array::New(env, 2);
    (void)pair.Set(0u, Latin1(env, vars[i].key.data, vars[i].key.len));
    (void)pair.Set(1u, Latin1(env, vars[i].value.data, vars[i].value.len));
    (void)list.Set(static_cast<uint32_t>(i), pair);
  }
  Napi::Object r = Napi::Object::New(env);
  Put(r, "modifier1", Napi::Number::New(env, h.modifier1));
  Put(r, "modifier2", Napi::Number::New(env, h.modifier2));
  Put(r, "datasize", Napi::Number::New(env, h.datasize));
  Put(r, "vars", list);
  Put(r, "bodyOffset", Napi::Number::New(env, static_cast<double>(kUwsgiHeaderSize + h.datasize)));
  // A JS number holds integers exactly up to 2^53; larger lengths come back as a BigInt.
  if (has_cl) {
    if (cl <= (uint64_t{1} << 53)) {
      Put(r, "contentLength", Napi::Number::New(env, static_cast<double>(cl)));
    } else {
      Put(r, "contentLength", Napi::BigInt::New(env, cl));
    }
  }
  return r;
}

Napi::Value EncodeUwsgi(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsArray()) {
    Napi::TypeError::New(env, "_encodeUwsgi(modifier1, modifier2, vars: [key, value][])")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  uint32_t m1 = info[0].As<Napi::Number>().Uint32Value();
  uint32_t m2 = info[1].As<Napi::Number>().Uint32Value();
  if (m1 > 255 || m2 > 255 || info[0].As<Napi::Number>().DoubleValue() != m1 ||
      info[1].As<Napi::Number>().DoubleValue() != m2) {
    Napi::RangeError::New(env, "modifiers must be integers 0-255").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Array in = info[2].As<Napi::Array>();
  uint32_t n = in.Length();
  std::vector<std::string> storage(2 * static_cast<size_t>(n));
  std::vector<UwsgiVar> vars(n);
  for (uint32_t i = 0; i < n; i++) {
    Napi::Value pair;
    if (!in.Get(i).UnwrapTo(&pair)) return env.Undefined();
    if (!pair.IsArray() || pair.As<Napi::Array>().Length() != 2) {
      Napi::TypeError::New(env, "each var must be a [key, value] pair").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Value k, v;
    if (!pair.As<Napi::Array>().Get(0u).UnwrapTo(&k) || !pair.As<Napi::Array>().Get(1u).UnwrapTo(&v))
      return env.Undefined();
    if (!ToLatin1(env, k, &storage[2 * i]) || !ToLatin1(env, v, &storage[2 * i + 1])) {
      return env.Undefined();
    }
    vars[i].key = Span{storage[2 * i].data(), storage[2 * i].size()};
    vars[i].value = Span{storage[2 * i + 1].data(), storage[2 * i + 1].size()};
  }
  size_t need =
      EncodeUwsgiPacket(static_cast<uint8_t>(m1), static_cast<uint8_t>(m2), vars.data(), n, nullptr, 0);
  if (need == 0) {
    Napi::RangeError::New(env, "vars cannot be encoded: empty key, or block over 65535 bytes")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, need);
  size_t wrote = EncodeUwsgiPacket(static_cast<uint8_t>(m1), static_cast<uint8_t>(m2), vars.data(), n,
                                   static_cast<char*>(ab.Data()), need);
  if (wrote != need) {
    Napi::Error::New(env, "encoder size mismatch").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Uint8Array::New(env, need, ab, 0);
}

Napi::Value DecodePath(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path;
  if (info.Length() < 1 || !ToLatin1(env, info[0], &path)) return env.Undefined();
  std::string out(path.size(), '\0');
  ErrorCode err = ErrorCode::OK;
  long n = DecodePathInfo(Span{path.data(), path.size()}, &out[0], out.size(), &err);
  if (n < 0) {
    Napi::Object r = Napi::Object::New(env);
    Put(r, "error", Napi::String::New(env, ErrorName(err)));
    return r;
  }
  return Latin1(env, out.data(), static_cast<size_t>(n));
}

}  // namespace

void RegisterUwsgiTestApi(Napi::Env env, Napi::Object exports) {
  Put(exports, "_parseUwsgi", Napi::Function::New(env, ParseUwsgi, "_parseUwsgi"));
  Put(exports, "_encodeUwsgi", Napi::Function::New(env, EncodeUwsgi, "_encodeUwsgi"));
  Put(exports, "_decodePathInfo", Napi::Function::New(env, DecodePath, "_decodePathInfo"));
}

}  // namespace tsgi
