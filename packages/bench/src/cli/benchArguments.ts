import { parseArgs } from 'node:util';
import { BENCH_BACKENDS, type BenchBackend } from '../benchmark/runs/backend.js';

/** The help text of `muon-tfjs bench` (`npm run bench -- --help`). */
export const BENCH_USAGE = `Usage: npm run bench -- [options]
       npm run spectrum -- [options]   (Muon's spectra against model size; see npm run spectrum -- --help)

Compares Muon and NorMuon (hybrids with AdamW), AdamW, SGD with momentum, Lion and SophiaG on an
MLP and a ConvNet on Fashion-MNIST (MNIST when Debian's dataset-fashion-mnist is not installed)
and a small transformer on Moby Dick (characters), every optimizer on the same schedule (linear
decay to 0) and seeds. Each optimizer's peak learning rate (and Sophia's rho) is tuned on a
held-out split with runs of a fraction of the budget, the schedule compressed to them; a grid
whose best point is at an edge is extended until it is interior. Prints a table per model and
writes results.json, SVG plots, summary.md and report.html. About 15 minutes of CPU.

Every run writes into a folder of its own, <out>/<date>T<time>Z-<mode>, and points <out>/latest at it.

Options:
  --quick              the first comparison to run: Muon (+AdamW) against AdamW on the MLP (Fashion-
                       MNIST, else MNIST), 3 seeds, the same tuning; a one-sentence verdict on top of
                       summary.md and report.html; 30 s measured on 2 idle cores (4–9 minutes
                       on a 2-core machine at load average 10–23, before the native threads
                       followed the load)
  --full               longer runs, every training image, 3 seeds, tuning at half the budget;
                       takes hours on 2 cores
  --models LIST        comma-separated: mlp, convnet, transformer, fashion-mlp, fashion-convnet,
                       wide-mlp (784-512-512-10)
  --optimizers LIST    comma-separated: muon, adamw, sgd, lion, normuon, sophia, the Muon
                       variants muon-bf16 (bfloat16 Newton–Schulz) and muon-auto (nsSteps 'auto':
                       layer-aware Newton–Schulz), dion2 (Dion2: a quarter of each matrix
                       orthogonalized per step), muon-ns3-bf16 (3 Newton–Schulz steps in
                       bfloat16), muon-turbo-bf16 (Turbo-Muon's 4 AOL steps in bfloat16) and
                       muon-bf16-momentum (Muon's momentum stored in bfloat16)
                       (default: all but the last six)
  --epochs N           epochs for every model (default: fashion-mlp 2, fashion-convnet 1,
                       transformer 2 of 30 steps; mlp 3, convnet 1)
  --seeds N|LIST       seeds 1..N, or a comma-separated list (default 1; --full: 3)
  --tune-fraction F    tuning runs last F of the measured run, 0.25 ≤ F ≤ 1 (default 0.25;
                       --full: 0.5); 1 tunes at the full budget
  --max-extensions N   at most N points added to a grid whose best is at an edge (default 3)
  --backend NAME       wasm (default in Node) or cpu
  --out DIR            where the run's folder is made (default bench-results)
  --chosen-lr LIST     kind=lr,...: peak rates an earlier search chose (another part of a run split
                       by --optimizers, or a stopped run's log); those skip their lr search, and
                       adamw=X is also the hybrids' AdamW rate
  --merge LIST         instead of running: join comma-separated results.json files of one comparison
                       split over processes (by --models, or by --optimizers with adamw in each
                       part), recompute the targets and write the outputs to --out
  --qk-clip TAU        instead of the comparison: the transformer trained twice with Muon at a high
                       learning rate, without and with QK-clip at τ = TAU (e.g. 100); writes
                       qk-clip.md, qk-clip.json and plots of max logit and loss against step
  -h, --help           this text
`;

/** The options of `muon-tfjs bench`, as given (the plan's defaults are applied by makeBenchPlan). */
export interface BenchArguments {
  readonly full: boolean;
  readonly quick: boolean;
  readonly models?: string;
  readonly optimizers?: string;
  readonly epochs?: string;
  readonly seeds?: string;
  readonly tuneFraction?: string;
  readonly maxExtensions?: string;
  readonly backend: BenchBackend;
  readonly out: string;
  /** τ of the QK-clip demonstration, which then runs instead of the comparison. */
  readonly qkClip?: number;
  /** Peak rates by optimizer kind, chosen by an earlier search. */
  readonly chosenLearningRates?: Readonly<Record<string, number>>;
  /** results.json files to join instead of running (comma-separated). */
  readonly merge?: string;
}

/**
 * Parses the arguments of `muon-tfjs bench` with `node:util` `parseArgs` in strict mode: an unknown
 * option, a missing value, a positional argument or an unknown backend throws, before anything runs.
 * @example
 * parseBenchArguments(['--models', 'mlp', '--out', 'results'])
 * // → { help: false, options: { full: false, quick: false, models: 'mlp', backend: 'wasm', out: 'results' } }
 */
export function parseBenchArguments(argv: readonly string[]): { readonly help: true } | { readonly help: false; readonly options: BenchArguments } {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      full: { type: 'boolean' },
      quick: { type: 'boolean' },
      models: { type: 'string' },
      optimizers: { type: 'string' },
      epochs: { type: 'string' },
      seeds: { type: 'string' },
      'tune-fraction': { type: 'string' },
      'max-extensions': { type: 'string' },
      backend: { type: 'string', default: 'wasm' },
      out: { type: 'string', default: 'bench-results' },
      'qk-clip': { type: 'string' },
      merge: { type: 'string' },
      'chosen-lr': { type: 'string' },
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
  const chosenLearningRates = values['chosen-lr'] === undefined ? undefined : Object.fromEntries(values['chosen-lr'].split(',').map((item) => {
    const [kind, value] = item.split('=');
    const lr = Number(value);
    if (kind === undefined || kind.trim() === '' || !(Number.isFinite(lr) && lr > 0)) {
      throw new Error(`--chosen-lr: expected kind=lr with lr > 0 (e.g. adamw=0.003), got '${item}'`);
    }
    return [kind.trim(), lr];
  }));
  return {
    help: false,
    options: {
      full: values.full === true,
      quick: values.quick === true,
      ...(values.models !== undefined && { models: values.models }),
      ...(values.optimizers !== undefined && { optimizers: values.optimizers }),
      ...(values.epochs !== undefined && { epochs: values.epochs }),
      ...(values.seeds !== undefined && { seeds: values.seeds }),
      ...(values['tune-fraction'] !== undefined && { tuneFraction: values['tune-fraction'] }),
      ...(values['max-extensions'] !== undefined && { maxExtensions: values['max-extensions'] }),
      backend: backend as BenchBackend,
      out: values.out,
      ...(qkClip !== undefined && { qkClip }),
      ...(values.merge !== undefined && { merge: values.merge }),
      ...(chosenLearningRates !== undefined && { chosenLearningRates }),
    },
  };
}
