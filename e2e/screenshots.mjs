// The README's screenshots, made from the real release build so that they
// show what ships: each page loaded in a state worth seeing, checked to be
// clean, then saved to docs/screenshots/.
//
// Run by `cargo xtask screenshots` (node's test runner, for its hooks), not
// by `cargo xtask test`: a test run leaves the work tree as it found it.

import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { expectText, openPage } from './support/browser.mjs';
import { browser, server, useApp } from './support/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const OUT = path.join(here, '..', 'docs', 'screenshots');

// A header block with one mistake in each header, so the picture shows the
// field view, the highlighted rules and the receiver's verdict at once.
const DECODE_INPUT = [
  'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01',
  'tracestate: rojo=00f067aa0ba902b7,Congo=t61rcWkgMzE',
].join('\n');

useApp(() => mkdir(OUT, { recursive: true }));

async function shoot(route, name, ready) {
  const { page, assertClean } = await openPage(browser, { width: 1280, height: 900 });
  await page.goto(new URL(route, server.url).href);
  await ready(page);
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
  await assertClean();
}

test('screenshot: home', async () => {
  await shoot('', 'home', (page) => expectText(page.getByTestId('app-title'), 'tracelab'));
});

test('screenshot: decode', async () => {
  const hash = `#tp=${encodeURIComponent(DECODE_INPUT)}`;
  await shoot(`decode${hash}`, 'decode', async (page) => {
    await expectText(page.getByTestId('tp-field-parent-id'), '00F067AA0BA902B7');
    await page.getByTestId('tp-verdict').waitFor();
  });
});

test('screenshot: build', async () => {
  const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03';
  const tracestate = 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7';
  const hash = `#tp=${encodeURIComponent(traceparent)}&ts=${encodeURIComponent(tracestate)}`;
  await shoot(`build${hash}`, 'build', (page) => expectText(page.getByTestId('build-traceparent'), traceparent));
});

test('screenshot: waterfall', async () => {
  await shoot('sample?spans=150&seed=3', 'waterfall', async (page) => {
    const rows = page.getByTestId('wf-row');
    await rows.first().waitFor();
    // A selected span shows the details panel beside the rows.
    await rows.nth(3).click();
    await page.getByTestId('wf-details').waitFor();
  });
});

test('screenshot: simulate', async () => {
  // Step 5, "find the slow part": every service traced, the planted problems on.
  await shoot('simulate#step=5&seed=7', 'simulate', async (page) => {
    await page.getByTestId('sim-call').click();
    await page.getByTestId('sim-hop').first().waitFor();
    await page.getByTestId('wf-row').first().waitFor();
  });
});
