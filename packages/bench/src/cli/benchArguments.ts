import { parseArgs } from 'node:util';
import { BENCH_BACKENDS, type BenchBackend } from '../benchmark/backend.js';

/** The help text of `muon-tfjs bench` (`npm run bench -- --help`). */
export const BENCH_USAGE = `Usage: muon-tfjs bench [options]
       muon-tfjs spectrum [options]   (Muon's spectra against model size; see spectrum --help)

Compares Muon (hybrid with AdamW), AdamW, SGD with momentum and Lion on an MLP and a ConvNet on
MNIST and a small transformer on Moby Dick (characters). Each optimizer's learning rate comes
from a small grid on a held-out split. Prints a table per model and writes results.json, SVG
plots, summary.md and report.html.

Options:
  --full               the complete suite: more epochs, 3 seeds, Fashion-MNIST when installed
                       (apt-get install dataset-fashion-mnist); takes hours on 2 cores
  --models LIST        comma-separated: mlp, convnet, transformer, fashion-mlp, fashion-convnet,
                       wide-mlp (784-512-512-10)
  --optimizers LIST    comma-separated: muon, adamw, sgd, lion, normuon, sophia, muon-auto
                       (the Muon hybrid with nsSteps 'auto': layer-aware Newton–Schulz)
                       (default: muon, adamw, sgd, lion)
  --epochs N           epochs for every model (default: mlp 3, convnet 1, transformer 2)
  --seeds N|LIST       seeds 1..N, or a comma-separated list (default 1; --full: 3)
  --backend NAME       wasm (default in Node) or cpu
  --out DIR            output folder (default bench-results)
  --qk-clip TAU        instead of the comparison: the transformer trained twice with Muon at a high
                       learning rate, without and with QK-clip at τ = TAU (e.g. 100); writes
                       qk-clip.md, qk-clip.json and plots of max logit and loss against step
  -h, --help           this text
`;

/** The options of `muon-tfjs bench`, as given (the plan's defaults are applied by makeBenchPlan). */
export interface BenchArguments {
  readonly full: boolean;
  readonly models?: string;
  readonly optimizers?: string;
  readonly epochs?: string;
  readonly seeds?: string;
  readonly backend: BenchBackend;
  readonly out: string;
  /** τ of the QK-clip demonstration, which then runs instead of the comparison. */
  readonly qkClip?: number;
}

/**
 * Parses the arguments of `muon-tfjs bench` with `node:util` `parseArgs` in strict mode: an unknown
 * option, a missing value, a positional argument or an unknown backend throws, before anything runs.
 * @example
 * parseBenchArguments(['--models', 'mlp', '--out', 'results'])
 * // → { help: false, options: { full: false, models: 'mlp', backend: 'wasm', out: 'results' } }
 */
export function parseBenchArguments(argv: readonly string[]): { readonly help: true } | { readonly help: false; readonly options: BenchArguments } {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      full: { type: 'boolean' },
      models: { type: 'string' },
      optimizers: { type: 'string' },
      epochs: { type: 'string' },
      seeds: { type: 'string' },
      backend: { type: 'string', default: 'wasm' },
      out: { type: 'string', default: 'bench-results' },
      'qk-clip': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help === true) return { help: true };
  const backend = values.backend;
  if (!(BENCH_BACKENDS as readonly string[]).includes(backend)) {
    throw new Error(`--backend: unknown backend '${backend}'; choose from ${BENCH_BACKENDS.join(', ')}`);
  }
  const qkClip = values['qk-clip'] === undefined ? undefined : Number(values['qk-clip']);
  if (qkClip !== undefined && !(Number.isFinite(qkClip) && qkClip > 0)) {
    throw new Error(`--qk-clip: τ must be a number > 0, got '${values['qk-clip']}'`);
  }
  return {
    help: false,
    options: {
      full: values.full === true,
      ...(values.models !== undefined && { models: values.models }),
      ...(values.optimizers !== undefined && { optimizers: values.optimizers }),
      ...(values.epochs !== undefined && { epochs: values.epochs }),
      ...(values.seeds !== undefined && { seeds: values.seeds }),
      backend: backend as BenchBackend,
      out: values.out,
      ...(qkClip !== undefined && { qkClip }),
    },
  };
}
