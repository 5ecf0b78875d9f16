#!/usr/bin/env node
/* global process, console -- a plain Node script, run before any TypeScript tooling */
// Builds the optional native kernel (native/build/Release/muon_native.node) with node-gyp over the
// system OpenBLAS and, where it compiles and links here (Debian: libdnnl-dev), oneDNN: then the
// Newton–Schulz products run in oneDNN, in float32 or bfloat16 (native/src/products.cc). Run by the package's `install` script (so by `npm ci` here and by
// `npm install muon-tfjs` in a user's project; npm ≥ 11 may ask the user to allow it) and by
// `npm run build:native`.
//
// The addon is optional: without a C++ compiler or OpenBLAS headers the build is skipped and
// muon-tfjs falls back to the wasm/TF.js kernels. Either way the script ends on one line saying
// which kernel Muon will run and, when it is not the native one, the command that builds it. Set MUON_TFJS_REQUIRE_NATIVE=1 (CI
// does) to turn a failed build into an error, or MUON_TFJS_SKIP_NATIVE=1 to skip it.
// MUON_TFJS_ONEDNN=0 builds over OpenBLAS alone even where oneDNN is installed;
// MUON_TFJS_REQUIRE_ONEDNN=1 (CI, once it installed libdnnl-dev) makes a missing oneDNN an error.
//
// Offline by design: node-gyp would otherwise download Node's headers; when the running Node ships
// them (`<prefix>/include/node/node_api.h`, as Debian's and the official tarballs do) they are used
// through --nodedir.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const required = process.env.MUON_TFJS_REQUIRE_NATIVE === '1';
const supported = process.platform === 'linux' || process.platform === 'darwin';

// The one command that builds the kernel afterwards: in this repository its npm script, in a
// user's project npm's rebuild of the package (which runs this script again).
const inRepository = existsSync(join(here, '..', '..', 'bench', 'package.json'));
const rebuild = inRepository ? 'npm run build:native' : 'npm rebuild muon-tfjs';
const toolchain = process.platform === 'darwin' ? 'brew install openblas' : 'sudo apt-get install -y g++ make python3 libopenblas-dev';

/**
 * Ends the script without the kernel, on one final line that says what runs instead and the
 * command that gets the kernel (`log`: the build output, shown only here, when the build failed).
 */
function give(reason, { log = '', needsToolchain = false } = {}) {
  if (log !== '') console.error(log.trimEnd());
  if (required) {
    console.error(`muon-tfjs native kernel: ${reason} (MUON_TFJS_REQUIRE_NATIVE=1)`);
    process.exit(1);
  }
  const how = !supported ? '' : needsToolchain ? `; to get it: ${toolchain} && ${rebuild}` : `; to get it: ${rebuild}`;
  console.warn(`muon-tfjs: the native kernel is not built (${reason}): Muon will run its TF.js kernels, slower in Node${how}`);
  process.exit(0);
}

if (process.env.MUON_TFJS_SKIP_NATIVE === '1') give('skipped, MUON_TFJS_SKIP_NATIVE=1');
if (!supported) give(`not available on ${process.platform}`);

/** node-gyp: the copy npm passes to lifecycle scripts, else the one bundled with npm. */
function findNodeGyp() {
  const candidates = [process.env.npm_config_node_gyp];
  if (process.env.npm_execpath) candidates.push(join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const prefix = dirname(dirname(realpathSync(process.execPath)));
  candidates.push(join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  try {
    candidates.push(createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed as a package; the bundled copies above are the usual ones
  }
  return candidates.find((c) => c !== undefined && c !== '' && existsSync(c));
}

const nodeGyp = findNodeGyp();
if (nodeGyp === undefined) give('node-gyp not found (it is bundled with npm)');

/**
 * Whether oneDNN can be used here: a three-line program including its C++ header and OpenMP's
 * and calling it compiles and links (headers, libdnnl and libgomp all found), with the compiler
 * node-gyp will use. Returns why not, or undefined when it can.
 */
function oneDnnMissing() {
  if (process.env.MUON_TFJS_ONEDNN === '0') return 'MUON_TFJS_ONEDNN=0';
  const compiler = process.env.CXX ?? 'c++';
  const dir = mkdtempSync(join(tmpdir(), 'muon-tfjs-onednn-'));
  try {
    const probe = spawnSync(compiler, ['-x', 'c++', '-std=c++17', '-', '-o', join(dir, 'probe'), '-ldnnl', '-lgomp'], {
      input: '#include <oneapi/dnnl/dnnl.hpp>\n#include <omp.h>\nint main() { omp_set_num_threads(1); return dnnl::get_effective_cpu_isa() == dnnl::cpu_isa::all ? 1 : 0; }\n',
      encoding: 'utf8',
    });
    if (probe.error !== undefined) return `${compiler} not found`;
    return probe.status === 0 ? undefined : 'oneDNN headers or library not found (Debian: libdnnl-dev)';
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const withoutOneDnn = oneDnnMissing();
if (withoutOneDnn !== undefined && process.env.MUON_TFJS_REQUIRE_ONEDNN === '1') {
  console.error(`muon-tfjs native kernel: oneDNN required (MUON_TFJS_REQUIRE_ONEDNN=1) but ${withoutOneDnn}`);
  process.exit(1);
}

const args = [nodeGyp, 'rebuild', `--directory=${here}`, `--muon_onednn=${withoutOneDnn === undefined}`];
const nodePrefix = dirname(dirname(realpathSync(process.execPath)));
if (existsSync(join(nodePrefix, 'include', 'node', 'node_api.h')) && existsSync(join(nodePrefix, 'include', 'node', 'common.gypi'))) {
  args.push(`--nodedir=${nodePrefix}`);
}
// Quiet on success (node-gyp prints ~35 lines of `gyp info`); the whole log on failure.
const build = spawnSync(process.execPath, args, { cwd: here, encoding: 'utf8' });
const log = `${build.stdout ?? ''}${build.stderr ?? ''}`;
if (build.status !== 0) give(`node-gyp failed with exit ${String(build.status)}, log above; it needs a C++ compiler and OpenBLAS`, { log, needsToolchain: true });

const addonPath = join(here, 'build', 'Release', 'muon_native.node');
try {
  const addon = createRequire(import.meta.url)(addonPath);
  const info = addon.info();
  const engine = info.onednn === null ? `${info.blas.trim()}; without oneDNN: ${withoutOneDnn}` : `${info.onednn} and ${info.blas.trim()}`;
  const bfloat16 = info.bfloat16 ? 'float32 and bfloat16' : `float32 (bfloat16 ${info.products.bfloat16})`;
  console.log(`muon-tfjs: native kernel built (${engine}; ${bfloat16}; ${info.threads} threads): Muon will run it in Node on the cpu and wasm backends`);
} catch (error) {
  give(`built but cannot be loaded: ${error instanceof Error ? error.message : String(error)}`, { log });
}
