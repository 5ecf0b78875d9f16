#!/usr/bin/env node
/* global process, console -- a plain Node script, run by `npm run build` after tsc */
// The CommonJS build, next to the ESM one that tsc writes into dist/: every dist/<file>.js gets a
// dist/<file>.cjs compiled by esbuild from the same source, and every dist/<file>.d.ts a
// dist/<file>.d.cts, so that `require('muon-tfjs')` and TypeScript in CommonJS projects
// (module: node16/nodenext) resolve a CommonJS module with its types.
//
// Why one .cjs per source file instead of one bundle per entry: both entries (`muon-tfjs`,
// `muon-tfjs/diagnostics`) share modules, and the optimizer classes are registered with
// tf.serialization.registerClass when their module runs; one file per module keeps one instance of
// each, as in the ESM build. Why beside the .js files: src/kernels/nativeAddon.ts finds the native
// addon two folders up from its own file (`../../native/build/Release/muon_native.node`), which
// holds for src/kernels/, dist/kernels/ and so for the .cjs beside the .js. TF.js and every other
// package stay external (peer dependencies are never bundled).
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const dist = join(root, 'dist');

/** Every file under `dir`, as paths. */
function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

/** Relative module specifiers ending in .js: the ones the CommonJS build points at .cjs. */
const RELATIVE_JS = /(from\s+|import\(\s*|require\(\s*)(['"])(\.{1,2}\/[^'"]*?)\.js\2/g;
const toCjsSpecifiers = (code) => code.replace(RELATIVE_JS, (_, lead, quote, path) => `${lead}${quote}${path}.cjs${quote}`);

// The library's modules: what tsc emits (tsconfig.build.json excludes tests and src/testing).
const sources = walk(src).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !relative(src, f).startsWith('testing'));

/** Keeps every import external, pointing relative ones at the sibling .cjs file. */
const externalImports = {
  name: 'external-imports',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      return { path: args.path.startsWith('.') ? args.path.replace(/\.js$/, '.cjs') : args.path, external: true };
    });
  },
};

// `import.meta.url` does not exist in CommonJS: the files that use it get the file URL of their
// own .cjs file instead, which is what the ESM file's import.meta.url is for dist/<file>.js.
const usesImportMeta = (f) => readFileSync(f, 'utf8').includes('import.meta.url');
const common = { outdir: dist, outbase: src, format: 'cjs', platform: 'node', target: 'node20', bundle: true, outExtension: { '.js': '.cjs' }, plugins: [externalImports], logLevel: 'warning' };
await build({ ...common, entryPoints: sources.filter((f) => !usesImportMeta(f)) });
await build({
  ...common,
  entryPoints: sources.filter(usesImportMeta),
  define: { 'import.meta.url': '__muonTfjsModuleUrl' },
  banner: { js: "const __muonTfjsModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
});

// The declarations for CommonJS consumers: the same text, relative imports pointing at .cjs.
const declarations = walk(dist).filter((f) => f.endsWith('.d.ts'));
for (const f of declarations) writeFileSync(f.replace(/\.d\.ts$/, '.d.cts'), toCjsSpecifiers(readFileSync(f, 'utf8')));
console.log(`muon-tfjs CommonJS build: ${sources.length} modules and ${declarations.length} declaration files in ${relative(process.cwd(), dist) || '.'}`);
