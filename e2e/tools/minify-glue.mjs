// Trunk post-build hook (Trunk.toml): minifies wasm-bindgen's ES-module glue
// in a release build, then puts the new file's SRI hash into index.html.
//
// Why: Trunk 0.21's own JS minifier cannot parse the glue's
// `export default` and ships it as it is, 9.1 KB gzipped of the first load's
// 400 KB budget; terser takes it to 6.9 KB. The worker's glue is a classic
// script, which Trunk minifies itself.
//
// In a debug build (`trunk serve`) it does nothing, so the dev loop needs no
// npm package. A release build without terser installed fails here, saying
// what to run: shipping the unminified glue would quietly break the budget.

import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

const profile = process.env.TRUNK_PROFILE;
const staging = process.env.TRUNK_STAGING_DIR;
if (profile !== 'release') process.exit(0);
if (!staging) fail('TRUNK_STAGING_DIR is not set: run this as a Trunk post_build hook');

let minify;
try {
  ({ minify } = await import('terser'));
} catch (error) {
  fail(`cannot load terser (${error.message}); run \`cargo xtask setup\` (npm ci in e2e/)`);
}

const sri = (bytes) => `sha384-${createHash('sha384').update(bytes).digest('base64')}`;
const htmlPath = path.join(staging, 'index.html');
let html = await readFile(htmlPath, 'utf8');
const glue = (await readdir(staging)).filter((name) => name.endsWith('.js'));
let done = 0;
for (const name of glue) {
  const file = path.join(staging, name);
  const source = await readFile(file, 'utf8');
  // Only ES modules: the worker's no-modules glue defines a global that
  // top-level mangling would rename, and Trunk minified it already.
  if (!/^export /m.test(source)) continue;
  const result = await minify(source, { module: true, compress: true, mangle: true });
  if (typeof result.code !== 'string') fail(`terser produced nothing for ${name}`);
  const before = sri(source);
  if (!html.includes(before)) fail(`index.html has no integrity hash for ${name}`);
  await writeFile(file, result.code);
  html = html.split(before).join(sri(result.code));
  console.log(`minify-glue: ${name} ${source.length} -> ${result.code.length} bytes`);
  done += 1;
}
if (done === 0) fail(`no ES-module glue found in ${staging}`);
await writeFile(htmlPath, html);

function fail(message) {
  console.error(`minify-glue: error: ${message}`);
  process.exit(1);
}
