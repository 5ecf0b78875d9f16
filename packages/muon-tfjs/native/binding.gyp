{
  "variables": {
    # Set to "true" by build.mjs when oneDNN (libdnnl-dev) compiles and links here.
    "muon_onednn%": "false"
  },
  "targets": [
    {
      "target_name": "muon_native",
      "sources": ["src/bindings.cc", "src/newton_schulz.cc", "src/fused_muon_step.cc", "src/fused_adam_step.cc", "src/fused_dion2_step.cc", "src/worker_pool.cc", "src/engine.cc", "src/machine_load.cc", "src/gram_spectrum.cc", "src/products.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-O3", "-std=c++17", "-ffp-contract=off", "-fno-math-errno"],
      "libraries": ["-lopenblas"],
      "conditions": [
        ["muon_onednn=='true'", {
          "defines": ["MUON_HAVE_ONEDNN"],
          "cflags_cc": ["-fopenmp"],
          "libraries": ["-ldnnl", "-lgomp"]
        }]
      ]
    }
  ]
}
