// A tiny static file server for the built app (dist/), as a browser would
// meet it in production: files by path, and index.html for any path that is
// not a file, so deep links such as /decode load the app (the same SPA
// fallback `trunk serve` gives). It binds 127.0.0.1 on a free port.

import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  // The browser compiles wasm while it streams only with this exact type.
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

async function isFile(filePath) {
  try {
    return (await stat(filePath)).isFile();
  } catch {
    return false;
  }
}

/**
 * Serves `root` on 127.0.0.1. Resolves to `{ url, close }`, where `url` ends
 * with a slash.
 */
export async function startStaticServer(root) {
  const rootDir = path.resolve(root);
  const indexFile = path.join(rootDir, 'index.html');
  if (!(await isFile(indexFile))) {
    throw new Error(`${indexFile} is missing: build the app first (trunk build --release)`);
  }

  const server = createServer(async (request, response) => {
    try {
      const { pathname } = new URL(request.url ?? '/', 'http://127.0.0.1');
      // Resolve against the root and refuse anything that escapes it.
      const filePath = path.join(rootDir, path.normalize(decodeURIComponent(pathname)));
      let file = null;
      if (filePath.startsWith(rootDir + path.sep) && (await isFile(filePath))) {
        file = filePath;
      } else if (path.extname(pathname) === '') {
        // A route, not an asset: the app decides what to show.
        file = indexFile;
      }
      if (file === null) {
        // A missing asset stays a 404 so that the tests notice it.
        response.writeHead(404, { 'content-type': 'text/plain' });
        response.end('not found');
        return;
      }
      const body = await readFile(file);
      response.writeHead(200, {
        'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
        'cache-control': 'no-store',
      });
      response.end(request.method === 'HEAD' ? undefined : body);
    } catch (error) {
      response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(String(error));
    }
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
