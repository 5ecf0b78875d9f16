#!/usr/bin/env node
/* global process, console -- a plain Node script, run before any TypeScript tooling */
// Builds the optional native kernel (native/build/Release/muon_native.node) with node-gyp over the
// system OpenBLAS. Run by the package's `install` script (so by `npm ci` here and by
// `npm install muon-tfjs` in a user's project; npm ≥ 11 may ask the user to allow it) and by
// `npm run build:native`.
//
// The addon is optional: without a C++ compiler or OpenBLAS headers the build is skipped with a
// warning and muon-tfjs falls back to the wasm/TF.js kernels. Set MUON_TFJS_REQUIRE_NATIVE=1 (CI
// does) to turn a failed build into an error, or MUON_TFJS_SKIP_NATIVE=1 to skip it.
//
// Offline by design: node-gyp would otherwise download Node's headers; when the running Node ships
// them (`<prefix>/include/node/node_api.h`, as Debian's and the official tarballs do) they are used
// through --nodedir.
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const required = process.env.MUON_TFJS_REQUIRE_NATIVE === '1';

function give(reason) {
  if (required) {
    console.error(`muon-tfjs native kernel: ${reason} (MUON_TFJS_REQUIRE_NATIVE=1)`);
    process.exit(1);
  }
  console.warn(`muon-tfjs native kernel: ${reason}; the wasm/TF.js kernels will be used instead.`);
  process.exit(0);
}

if (process.env.MUON_TFJS_SKIP_NATIVE === '1') give('skipped (MUON_TFJS_SKIP_NATIVE=1)');
if (process.platform !== 'linux' && process.platform !== 'darwin') give(`not built on ${process.platform}`);

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

const args = [nodeGyp, 'rebuild', `--directory=${here}`];
const nodePrefix = dirname(dirname(realpathSync(process.execPath)));
if (existsSync(join(nodePrefix, 'include', 'node', 'node_api.h')) && existsSync(join(nodePrefix, 'include', 'node', 'common.gypi'))) {
  args.push(`--nodedir=${nodePrefix}`);
}
const build = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: here });
if (build.status !== 0) give(`node-gyp failed (exit ${String(build.status)}); install a C++ compiler and OpenBLAS (apt-get install -y g++ make python3 libopenblas-dev)`);

const addonPath = join(here, 'build', 'Release', 'muon_native.node');
try {
  const addon = createRequire(import.meta.url)(addonPath);
  const info = addon.info();
  console.log(`muon-tfjs native kernel built: ${addonPath} (${info.blas.trim()}, ${info.threads} threads)`);
} catch (error) {
  give(`built but cannot be loaded: ${error instanceof Error ? error.message : String(error)}`);
}
