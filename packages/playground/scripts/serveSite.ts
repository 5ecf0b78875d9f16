/**
 * A static server for the playground site with the COOP/COEP headers that make the page
 * cross-origin isolated (wasm threads), used by `npm run playground`, the e2e tests and
 * `npm run bench:playground`.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ISOLATION_HEADERS, SITE_DIR, buildSite } from './buildSite.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8', '.map': 'application/json', '.u8': 'application/octet-stream',
};

/** Serves `dir` on 127.0.0.1:`port` (0: any free port) and resolves to its origin and a closer. */
export async function serveSite(dir = SITE_DIR, port = 0): Promise<{ origin: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname)).replace(/^(\.\.[/\\])+/, '');
    let file = join(dir, path);
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!file.startsWith(dir) || !existsSync(file)) {
      response.writeHead(404);
      response.end();
      return;
    }
    response.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store', 'Cross-Origin-Resource-Policy': 'same-origin', ...ISOLATION_HEADERS });
    response.end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${bound}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildSite({ minify: false, data: true });
  const { origin } = await serveSite(SITE_DIR, Number(process.env.PORT ?? 8080));
  console.log(`Muon playground: ${origin}/  (cross-origin isolated; rebuild with npm run playground after editing)`);
}
