{
  "targets": [
    {
      "target_name": "tessera_native",
      "sources": [
        "native/src/addon.cc",
        "native/src/threadpool.cc",
        "native/src/gemm.cc",
        "native/src/gemm_binding.cc",
        "native/src/gemm_avx512.cc",
        "native/src/gemm_avx2.cc",
        "native/src/gemm_portable.cc",
        "native/src/ops.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O3", "-fno-math-errno", "-funroll-loops"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++14", "-std=gnu++1y"]
    }
  ]
}
