import type { ColumnBlocksOf } from '../transforms/splitColumns.js';

/**
 * A rule of Muon's `blockColumns` option: variables whose name contains `name` are split along
 * their last axis (the fanOut columns) into `blocks` equal blocks, or into blocks of the listed
 * widths, each orthogonalized on its own with its own shape scale. Serializable (a string and
 * numbers), so it is saved with the optimizer's config; the substring sits under a `name` key
 * because tfjs-layers camel-cases every other string of a saved config (`block1_qkv` → `block1Qkv`).
 * @example
 * { name: 'attention/qkv', blocks: 3 }            // Q | K | V of a fused kernel
 * { name: 'attention/query', blocks: 8 }          // each of 8 heads
 * { name: 'lstm/kernel', blocks: 4 }              // the i, f, c, o gates (GRU: 3)
 * { name: 'attention/qkv', blocks: [512, 128, 128] } // fused grouped-query Q | K | V
 */
export interface BlockColumnsRule {
  /** A substring of the names of the variables to split. */
  readonly name: string;
  readonly blocks: number | readonly number[];
}

/** Checks the rules by position and field, naming the option's owner. */
export function checkBlockColumns(rules: readonly BlockColumnsRule[], owner: string): void {
  if (!Array.isArray(rules)) throw new Error(`${owner}: blockColumns must be an array of { name, blocks }, got ${JSON.stringify(rules)}`);
  rules.forEach((rule, i) => {
    const { name, blocks } = (rule ?? {}) as Partial<BlockColumnsRule>;
    if (typeof name !== 'string' || name === '') throw new Error(`${owner}: blockColumns[${i}].name must be a non-empty string, got ${JSON.stringify(name)}`);
    const widths = typeof blocks === 'number' ? [blocks] : blocks;
    if (!Array.isArray(widths) || widths.length === 0 || widths.some((w) => !Number.isInteger(w) || w < 1)) {
      throw new Error(`${owner}: blockColumns[${i}].blocks must be a positive integer or a list of positive integer widths, got ${JSON.stringify(blocks)}`);
    }
  });
}

/** The block widths the first matching rule gives each variable (equal blocks must divide its columns). */
export function blockColumnsOf(rules: readonly BlockColumnsRule[], owner: string): ColumnBlocksOf {
  return (name, shape) => {
    const rule = rules.find((r) => name.includes(r.name));
    if (rule === undefined) return undefined;
    const { blocks } = rule;
    if (typeof blocks !== 'number') return blocks;
    const columns = shape[shape.length - 1] as number;
    if (columns % blocks !== 0) {
      throw new Error(`${owner}: blockColumns '${rule.name}' splits '${name}' of shape [${shape.join(', ')}] into ${blocks} blocks, but its last axis ${columns} is not a multiple of ${blocks}`);
    }
    return Array.from({ length: blocks }, () => columns / blocks);
  };
}
