{
  "targets": [
    {
      "target_name": "tsgi_native",
      "sources": [
        "native/src/addon.cc",
        "native/src/common/errors.cc",
        "native/src/proto/http1.cc",
        "native/src/proto/chunked.cc",
        "native/src/proto/uwsgi.cc",
        "native/src/proto/fastcgi.cc",
        "native/src/proto/scgi.cc",
        "native/src/proto/uri.cc",
        "native/src/proto/http1_response.cc",
        "native/src/proto/vars.cc",
        "native/src/loop/listener.cc",
        "native/src/loop/server.cc",
        "native/src/loop/server_api.cc",
        "native/src/loop/connection.cc",
        "native/src/loop/request.cc",
        "native/src/loop/fastcgi.cc",
        "native/src/loop/response.cc",
        "native/src/loop/shapes.cc",
        "native/src/loop/harakiri.cc",
        "native/src/loop/request_log.cc",
        "native/src/binding/server_wrap.cc",
        "native/src/binding/http_test_api.cc",
        "native/src/binding/uwsgi_test_api.cc",
        "native/src/binding/scoreboard_wrap.cc",
        "native/src/binding/router_wrap.cc",
        "native/src/binding/process_api.cc",
        "native/src/router/router.cc",
        "native/src/router/session.cc",
        "native/src/router/relay.cc",
        "native/src/router/router_thread.cc",
        "native/src/scoreboard/scoreboard.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "native/src"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_ENABLE_MAYBE"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-O2", "-fno-exceptions", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "xcode_settings": { "CLANG_CXX_LANGUAGE_STANDARD": "c++17" }
    }
  ]
}
