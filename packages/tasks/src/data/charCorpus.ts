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
 * Encodes a text and splits it contiguously into train (first 90 %), validation (next 5 %) and
 * test (last 5 %). Pure (no file access), so a web page can build the corpus from fetched text.
 *
 * @example
 * const corpus = charCorpusFromText('abcabc…', 'toy', 'inline'); // corpus.vocab: ['a', 'b', 'c']
 */
export function charCorpusFromText(text: string, name: string, source: string): CharCorpus {
  const { vocab, codes } = encodeCharacters(text);
  const trainEnd = Math.floor(codes.length * 0.9);
  const validationEnd = Math.floor(codes.length * 0.95);
  return {
    name,
    vocab,
    train: codes.subarray(0, trainEnd),
    validation: codes.subarray(trainEnd, validationEnd),
    test: codes.subarray(validationEnd),
    characters: codes.length,
    source,
  };
}
