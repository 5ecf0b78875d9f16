import { parseArgs } from 'node:util';

/** What a perf script accepts: its usage text, its options that take a value, and its flags. */
export interface CommandLineSpec<S extends string, F extends string> {
  readonly usage: string;
  readonly strings: readonly S[];
  readonly flags?: readonly F[];
}

/** The parsed command line: `--help`, or the values given (absent options are undefined). */
export type ParsedCommandLine<S extends string, F extends string> =
  | { readonly help: true }
  | { readonly help: false; readonly values: { readonly [K in S]?: string } & { readonly [K in F]: boolean } };

/**
 * Parses a perf script's arguments with `node:util` `parseArgs` in strict mode, as the
 * `muon-tfjs bench` command does: an unknown option, a missing value or a stray positional
 * argument throws (before any benchmark starts), `-h`/`--help` is recognised everywhere.
 * @example
 * parseCommandLine({ usage, strings: ['runs'], flags: ['skip-wasm'] }, ['--runs', '7'])
 * // → { help: false, values: { runs: '7', 'skip-wasm': false } }
 */
export function parseCommandLine<S extends string, F extends string = never>(spec: CommandLineSpec<S, F>, argv: readonly string[]): ParsedCommandLine<S, F> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const name of spec.strings) options[name] = { type: 'string' };
  for (const name of spec.flags ?? []) options[name] = { type: 'boolean' };
  const { values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
  if (values['help'] === true) return { help: true };
  const parsed: Record<string, string | boolean | undefined> = {};
  for (const name of spec.strings) parsed[name] = values[name] as string | undefined;
  for (const name of spec.flags ?? []) parsed[name] = values[name] === true;
  return { help: false, values: parsed as { readonly [K in S]?: string } & { readonly [K in F]: boolean } };
}

/**
 * The script's command line (`process.argv`): prints the usage and exits on `--help`, prints the
 * error and the usage and exits with status 2 on a bad argument.
 */
export function commandLine<S extends string, F extends string = never>(spec: CommandLineSpec<S, F>): { readonly [K in S]?: string } & { readonly [K in F]: boolean } {
  let parsed: ParsedCommandLine<S, F>;
  try {
    parsed = parseCommandLine(spec, process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${spec.usage}`);
    process.exit(2);
  }
  if (parsed.help) {
    process.stdout.write(spec.usage);
    process.exit(0);
  }
  return parsed.values;
}
