import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPTIMIZER_KINDS } from 'muon-tfjs';

// Facts the docs state that a test can check, so that a rename, a removal or a new optimizer
// kind cannot leave a page describing code that no longer exists (issue 23 item 5). Checked:
// every repository path a page names (in backticks or as a link), every `npm run` script it
// tells a reader to run (and no bin that does not exist), the architecture page's names of code,
// and its list of optimizer kinds.
// The packed size and file count quoted in the README are checked by
// packages/muon-tfjs/examples/package.test.ts, the README's code blocks by readme.test.ts.

const root = new URL('../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');
const PAGES = ['README.md', ...readdirSync(new URL('docs/', root)).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const tracked = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);
const trackedFolders = new Set(tracked.flatMap((file) => file.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))));

/** Backticked spans of a page, outside fenced code blocks (whose text other tests check). */
function inlineCode(text: string): string[] {
  const prose = text.replace(/^```[^]*?^```$/gm, '');
  return [...prose.matchAll(/`([^`\n]+)`/g)].map((m) => m[1] as string);
}

/**
 * Whether a path a page names exists. Pages name paths from the repository root
 * (`packages/bench/src/...`), from a package (`src/adapter/...`, `native/src/...`) or from a
 * layer (`adapter/TransformOptimizer.ts`), so a path exists when a tracked file or folder ends
 * with it, whole segment by whole segment.
 */
function pathExists(path: string): boolean {
  const bare = path.replace(/\/$/, '');
  const endsWith = (candidate: string): boolean => candidate === bare || candidate.endsWith(`/${bare}`);
  return tracked.some(endsWith) || [...trackedFolders].some(endsWith);
}

/** A span that names a repository path: segments of file-name characters, a slash, and a file extension or a trailing slash. */
const REPOSITORY_PATH = /^(?:[\w.-]+\/)+(?:[\w.-]+\.(?:ts|js|cjs|mjs|json|md|cc|h|html|svg|png|yml|gyp)|)$/;
/** Paths that are not the repository's: output folders that runs create, and system locations. */
const NOT_IN_REPOSITORY = [/^bench-results\//, /^spectrum-results\//, /^dist\//, /^node_modules\//, /^\.\.\//];

describe('what the docs name exists', () => {
  it('every repository path named in a page exists', () => {
    const missing: string[] = [];
    for (const page of PAGES) {
      const links = [...read(page).matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1] as string).filter((t) => !/^[a-z]+:/.test(t));
      for (const link of links) {
        if (!existsSync(new URL(link, new URL(page, root)))) missing.push(`${page}: link ${link}`);
      }
      for (const span of inlineCode(read(page))) {
        if (!REPOSITORY_PATH.test(span) || NOT_IN_REPOSITORY.some((p) => p.test(span))) continue;
        if (!pathExists(span)) missing.push(`${page}: \`${span}\``);
      }
    }
    expect(missing).toEqual([]);
  });

  it('every `npm run` script a page tells the reader to run is a script of the workspace', () => {
    const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts);
    const missing: string[] = [];
    for (const page of PAGES) {
      // `npm run bench:*` stands for a family of scripts: at least one must exist.
      for (const [, script, family] of read(page).matchAll(/npm run ([\w:-]*\w)(:\*)?/g)) {
        const exists = family === undefined ? scripts.includes(script as string) : scripts.some((s) => s.startsWith(`${script as string}:`));
        if (!exists) missing.push(`${page}: npm run ${script as string}${family ?? ''}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('names no package bin and no built CLI that does not exist', () => {
    // The tools run through `npm run`; no workspace package has a `bin` (docs/benchmark.md once
    // told readers to run a `muon-tfjs` bin).
    const workspaces = (JSON.parse(read('package.json')) as { workspaces: string[] }).workspaces;
    const bins = workspaces.filter((w) => (JSON.parse(read(`${w}/package.json`)) as { bin?: unknown }).bin !== undefined);
    expect(bins).toEqual([]);
    for (const page of PAGES) expect(read(page), page).not.toMatch(/package `bin`|node dist\/cli\//);
  });

  it("the architecture page names only code that exists", () => {
    // Identifiers in backticks: a camelCase, PascalCase or CONSTANT_CASE name (plain words such as
    // `step` or `name` are too common to tell anything). Each must be a whole word of some tracked
    // source file; the names of other programs' APIs that the page cites are listed with where they live.
    const elsewhere = new Set(['SelfAttention.clip_qk']);
    const sources = tracked.filter((f) => /\.(ts|cc|h|mjs|cjs)$|tsconfig\.json$/.test(f) && !f.endsWith('.test.ts')).map((f) => read(f)).join('\n');
    // A section headed "Agreed next shape" describes a design not built yet: its names are plans.
    const built = read('docs/architecture.md').replace(/^## Agreed next shape[^]*?(?=^## |(?![^]))/m, '');
    const names = inlineCode(built)
      .map((span) => span.replace(/<.*>$/, '').replace(/\(\)$/, ''))
      .filter((span) => /^[A-Za-z_][\w.]*$/.test(span) && /[a-z][A-Z]|^[A-Z][a-z]|_[A-Z]|^[A-Z_]{4,}$/.test(span) && !elsewhere.has(span));
    expect(names.length).toBeGreaterThan(20);
    const missing = [...new Set(names)].filter((name) => !name.split('.').every((part) => new RegExp(`\\b${part}\\b`).test(sources)));
    expect(missing).toEqual([]);
  });

  it("the library's description and its entry's header name every optimizer kind", () => {
    // By the kind's title (a variant's name may extend it: 'SophiaG' names the 'Sophia' kind).
    const description = (JSON.parse(read('packages/muon-tfjs/package.json')) as { description: string }).description;
    const header = /^\/\*\*[^]*?\*\//.exec(read('packages/muon-tfjs/src/index.ts'))?.[0] ?? '';
    for (const { title } of Object.values(OPTIMIZER_KINDS)) {
      expect(description, 'packages/muon-tfjs/package.json description').toMatch(new RegExp(`\\b${title}`));
      expect(header, 'packages/muon-tfjs/src/index.ts header').toMatch(new RegExp(`\\b${title}`));
    }
  });

  it('the architecture page lists the optimizer kinds there are', () => {
    // Wherever the page writes a union of optimizer names (`'muon' | 'adamw' | ...` after
    // `optimizer:`), it must be the registry's names, all of them.
    const unions = [...read('docs/architecture.md').matchAll(/optimizer: ((?:'\w+'(?: \| )?)+)/g)].map((m) =>
      [...(m[1] as string).matchAll(/'(\w+)'/g)].map((n) => n[1]).sort(),
    );
    expect(unions.length).toBeGreaterThan(0);
    for (const union of unions) expect(union).toEqual(Object.keys(OPTIMIZER_KINDS).sort());
  });
});
