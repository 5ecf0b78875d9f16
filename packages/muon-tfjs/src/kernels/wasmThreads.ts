import * as tf from '@tensorflow/tfjs-core';

/**
 * Multi-threaded `tfjs-backend-wasm` in Node (opt-in; in browsers see {@link enableWasmThreadsInBrowser}).
 *
 * tfjs-backend-wasm 4.22 ships a threaded SIMD build but never uses it in Node, for three reasons
 * measured here (tensorflow/tfjs#3830):
 *  1. the `WASM_HAS_MULTITHREAD_SUPPORT` flag is hard-wired to false when `IS_NODE`;
 *  2. Emscripten's pthread workers are started from `blob:` URLs (the worker script, then the main
 *     script inside each worker), which `worker_threads` refuses (`ERR_WORKER_PATH`);
 *  3. XNNPACK's pool is capped at `os.cpus().length / 2` threads, read once when the module starts:
 *     one thread on a 2-core machine.
 * This helper works around all three for the duration of the backend's initialization only: it
 * writes the worker script to a temporary file and hands out its path instead of a blob URL, lets
 * that worker resolve the main-script blob to the package's own threaded glue file, and reports
 * `2 × threads` CPUs while the module starts. Afterwards it unreferences the pthread workers so they
 * never keep the process alive. On this 2-core machine a 1024³ matmul goes from 28 to 56 GFLOP/s.
 *
 * It relies on tfjs-backend-wasm 4.22's internals (the peer version this package pins); if any step
 * fails it restores everything it patched and rejects, and the wasm backend can still be set up
 * single-threaded in a fresh process.
 *
 * @example
 * import '@tensorflow/tfjs-backend-wasm';
 * await enableWasmThreadsInNode({ threads: 2 }); // instead of tf.setBackend('wasm')
 */
export interface WasmThreadsOptions {
  /** XNNPACK threads. Default: the number of CPUs (Node) or `navigator.hardwareConcurrency` (browser). */
  readonly threads?: number;
}

function checkThreads(threads: number): void {
  if (!Number.isInteger(threads) || threads < 1 || threads > 8) {
    throw new Error(`threads must be an integer in [1, 8] (XNNPACK's pool in tfjs-backend-wasm holds 8 workers); got ${threads}`);
  }
}

function checkWasmNotStarted(caller: string): void {
  if (tf.findBackendFactory('wasm') === null) {
    throw new Error("the wasm backend is not registered: import '@tensorflow/tfjs-backend-wasm' first");
  }
  if (tf.findBackend('wasm') !== null) {
    throw new Error(`the wasm backend is already initialized: call ${caller}() before tf.setBackend('wasm') or any tensor op`);
  }
}

/** The XNNPACK thread count of the initialized wasm backend (1 where the build has no threads). */
function wasmThreadsCount(): number {
  const wasm = (tf.backend() as unknown as { wasm: WasmModuleInternals }).wasm;
  return wasm.tfjs?.getThreadsCount?.() ?? 1;
}

interface NodeApis {
  readonly os: { cpus(): unknown[]; tmpdir(): string };
  readonly fs: { mkdtempSync(prefix: string): string; writeFileSync(path: string, data: string): void };
  readonly path: { join(...parts: string[]): string; dirname(path: string): string };
  readonly createRequire: (from: string | URL) => NodeJS.Require;
}

function nodeApis(): NodeApis {
  const proc = (globalThis as { process?: { getBuiltinModule?(id: string): unknown } }).process;
  if (proc?.getBuiltinModule === undefined) {
    throw new Error('enableWasmThreadsInNode needs Node ≥ 20.16 (process.getBuiltinModule); in browsers tfjs-backend-wasm enables threads itself');
  }
  const get = proc.getBuiltinModule.bind(proc);
  return {
    os: get('node:os') as NodeApis['os'],
    fs: get('node:fs') as NodeApis['fs'],
    path: get('node:path') as NodeApis['path'],
    createRequire: (get('node:module') as { createRequire: NodeApis['createRequire'] }).createRequire,
  };
}

interface WasmModuleInternals {
  readonly tfjs?: { getThreadsCount?(): number };
  readonly PThread?: { readonly unusedWorkers: readonly { unref(): void }[]; readonly runningWorkers: readonly { unref(): void }[] };
}

/**
 * Initializes the `wasm` backend with `threads` XNNPACK threads and makes it the current backend.
 * Call it instead of (and before any) `tf.setBackend('wasm')`, after importing
 * `@tensorflow/tfjs-backend-wasm`. Resolves to the thread count the backend reports.
 */
export async function enableWasmThreadsInNode(options: WasmThreadsOptions = {}): Promise<number> {
  const { os, fs, path, createRequire } = nodeApis();
  const threads = options.threads ?? os.cpus().length;
  checkThreads(threads);
  checkWasmNotStarted('enableWasmThreadsInNode');
  const require = createRequire(import.meta.url);
  const packageDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  const mainScript = path.join(packageDir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js');
  const { wasmWorkerContents } = require(path.join(packageDir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents: string };
  // Inside each worker, the main script arrives as a Blob of type text/javascript: map it to the file.
  const prelude =
    `{const m=${JSON.stringify(mainScript)};const c=URL.createObjectURL,r=URL.revokeObjectURL;` +
    'URL.createObjectURL=b=>b&&b.type==="text/javascript"?m:c(b);URL.revokeObjectURL=u=>u===m?undefined:r(u);}';
  const workerScript = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'muon-tfjs-wasm-')), 'worker.js');
  // tfjs escapes newlines the same way before putting the worker source in its Blob.
  fs.writeFileSync(workerScript, prelude + wasmWorkerContents.replace(/\n/g, '\\n'));

  const createObjectURL = URL.createObjectURL.bind(URL);
  const realCpus = os.cpus.bind(os);
  URL.createObjectURL = (blob: Blob) => (blob.type === 'application/javascript' ? workerScript : createObjectURL(blob));
  os.cpus = () => Array.from({ length: 2 * threads }, (_, i) => realCpus()[i % realCpus().length]);
  // Left on afterwards: it then tells the truth about the initialized backend.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  let ok = false;
  try {
    ok = await tf.setBackend('wasm');
  } finally {
    URL.createObjectURL = createObjectURL;
    os.cpus = realCpus;
  }
  if (!ok) throw new Error('tfjs-backend-wasm failed to initialize with threads (see the error logged above)');
  const wasm = (tf.backend() as unknown as { wasm: WasmModuleInternals }).wasm;
  for (const worker of [...(wasm.PThread?.unusedWorkers ?? []), ...(wasm.PThread?.runningWorkers ?? [])]) worker.unref();
  return wasmThreadsCount();
}

/**
 * Multi-threaded `tfjs-backend-wasm` in a browser page, with as many XNNPACK threads as asked.
 *
 * Browsers start the threaded build when the page is cross-origin isolated (served with
 * `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`), but
 * tfjs-backend-wasm 4.22 caps the pool at `navigator.hardwareConcurrency / 2` (its backend.cc
 * assumes two hyper-threads per core), and `setThreadsCount` cannot lift the cap: a 2-core machine
 * without hyper-threading gets one thread. Measured in Chromium 156 on this project's 2-core
 * machine (`npm run bench:browser`): 1 thread by default or with `setThreadsCount(2)`, 40.8 s for the
 * GPT-2-small orthogonalization set; 2 threads this way, 23.8 s. The module reads the value once,
 * while it starts, so this reports `2 × threads` for the duration of `tf.setBackend('wasm')` only
 * and then restores the browser's own getter.
 *
 * Call it instead of `tf.setBackend('wasm')`, after importing `@tensorflow/tfjs-backend-wasm` (and
 * `setWasmPaths` if the .wasm files are not served next to the bundle). Resolves to the thread
 * count the backend reports. Throws, changing nothing, if the page is not cross-origin isolated.
 *
 * @example
 * import '@tensorflow/tfjs-backend-wasm';
 * await enableWasmThreadsInBrowser(); // one thread per logical core
 */
export async function enableWasmThreadsInBrowser(options: WasmThreadsOptions = {}): Promise<number> {
  const scope = globalThis as { crossOriginIsolated?: boolean; navigator?: { hardwareConcurrency?: number } };
  const navigator = scope.navigator;
  if (navigator === undefined || typeof navigator.hardwareConcurrency !== 'number') {
    throw new Error('enableWasmThreadsInBrowser needs a browser (navigator.hardwareConcurrency); in Node use enableWasmThreadsInNode');
  }
  const threads = options.threads ?? navigator.hardwareConcurrency;
  checkThreads(threads);
  if (scope.crossOriginIsolated !== true) {
    throw new Error(
      'wasm threads need a cross-origin isolated page (crossOriginIsolated is false): serve it with the headers ' +
        "'Cross-Origin-Opener-Policy: same-origin' and 'Cross-Origin-Embedder-Policy: require-corp'",
    );
  }
  checkWasmNotStarted('enableWasmThreadsInBrowser');
  Object.defineProperty(navigator, 'hardwareConcurrency', { configurable: true, get: () => 2 * threads });
  let ok = false;
  try {
    ok = await tf.setBackend('wasm');
  } finally {
    // The own property shadows Navigator.prototype's getter; deleting it brings the real value back.
    delete (navigator as { hardwareConcurrency?: number }).hardwareConcurrency;
  }
  if (!ok) throw new Error('tfjs-backend-wasm failed to initialize (see the error logged above)');
  return wasmThreadsCount();
}
