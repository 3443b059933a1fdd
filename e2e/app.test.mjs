// Browser tests of the built app (dist/, from `trunk build --release`): the
// shell, the routes, the navigation, and that nothing leaves 127.0.0.1.
// Elements are found by data-testid only, never by DOM shape.
//
// Run by `cargo xtask test`; alone: `node --test` in e2e/ after a build
// (TRACELAB_DIST points elsewhere than ../dist).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { expectText, openPage, waitFor } from './support/browser.mjs';
import { browser, server, useApp } from './support/harness.mjs';

// The pages in navigation order, with the heading each one shows.
const PAGES = [
  { slug: 'decode', title: 'Decode' },
  { slug: 'build', title: 'Build' },
  { slug: 'simulate', title: 'Simulate' },
  { slug: 'sample', title: 'Sample trace' },
  { slug: 'live', title: 'Live' },
  { slug: 'import', title: 'Import' },
];
const HOME_TITLE = 'A lab for distributed tracing';

useApp();

test('home shows the product name, the navigation and a link to every page', async () => {
  const { page, assertClean } = await openPage(browser);
  await page.goto(server.url);

  await expectText(page.getByTestId('app-title'), 'tracelab');
  assert.ok(await page.getByTestId('nav').isVisible(), 'the nav is visible');
  await expectText(page.getByTestId('page-title'), HOME_TITLE);
  for (const { slug, title } of PAGES) {
    await expectText(page.getByTestId(`nav-${slug}`), title);
    await expectText(page.getByTestId(`home-link-${slug}`), title);
  }
  assert.equal(await page.title(), 'tracelab');

  await assertClean();
});

test('a deep link loads its page directly', async () => {
  const { page, assertClean } = await openPage(browser);
  for (const { slug, title } of PAGES) {
    await page.goto(new URL(slug, server.url).href);
    await expectText(page.getByTestId('page-title'), title);
    await expectText(page.getByTestId('app-title'), 'tracelab');
    // The router marks the current page's link, which the CSS highlights.
    assert.equal(await page.getByTestId(`nav-${slug}`).getAttribute('aria-current'), 'page');
  }
  await assertClean();
});

test('nav links change the page, without reloading it within each of the two apps', async () => {
  const { page, assertClean } = await openPage(browser);
  await page.goto(server.url);
  await expectText(page.getByTestId('page-title'), HOME_TITLE);
  // Survives only if no link reloads the document: routing is client-side
  // among the first load's pages (Home, Decode, Build) and among the trace
  // pages (Simulate, Sample, Live, Import); going from one group to the other loads
  // the other app (crates/app/src/lib.rs), which is a page load. So does
  // going to Live from a page whose policy allows no connection
  // (crates/app/src/csp.rs): a document's policy can only narrow.
  const markNoReload = () => page.evaluate(() => {
    window.tracelabNoReload = true;
  });
  const stayed = () => page.evaluate(() => window.tracelabNoReload === true);
  const TRACE_PAGES = ['simulate', 'sample', 'live', 'import'];
  await markNoReload();
  let group = 'first';
  for (const { slug, title } of PAGES) {
    const next = TRACE_PAGES.includes(slug) ? 'trace' : 'first';
    await page.getByTestId(`nav-${slug}`).click();
    await expectText(page.getByTestId('page-title'), title);
    assert.equal(new URL(page.url()).pathname, `/${slug}`);
    const reloads = next !== group || slug === 'live';
    assert.equal(await stayed(), !reloads, `${slug}: a reload exactly when the app changes, or for Live`);
    group = next;
    await markNoReload();
  }
  await page.getByTestId('app-title').click();
  await expectText(page.getByTestId('page-title'), HOME_TITLE);
  assert.equal(new URL(page.url()).pathname, '/');
  await markNoReload();
  await page.getByTestId('nav-decode').click();
  await expectText(page.getByTestId('page-title'), 'Decode');

  await page.getByTestId('nav-simulate').click();
  await expectText(page.getByTestId('page-title'), 'Simulate');
  await page.goBack();
  await expectText(page.getByTestId('page-title'), 'Decode');
  await page.goBack();
  await expectText(page.getByTestId('page-title'), HOME_TITLE);
  await assertClean();
});

test('an unknown path says there is no such page and links home', async () => {
  const { page, assertClean } = await openPage(browser);
  await page.goto(new URL('no/such/page', server.url).href);
  await expectText(page.getByTestId('page-title'), 'No such page');

  await page.getByTestId('not-found-home').click();
  await expectText(page.getByTestId('page-title'), HOME_TITLE);
  await assertClean();
});

test('fits a 360 px wide screen without sideways scrolling', async () => {
  const { page, assertClean } = await openPage(browser, { width: 360, height: 740 });
  for (const route of ['', 'decode', 'simulate', 'import']) {
    await page.goto(new URL(route, server.url).href);
    await page.getByTestId('page-title').waitFor();
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(scrollWidth <= 360, `/${route} is ${scrollWidth}px wide`);
  }
  await assertClean();
});

test('each page keeps its input across the navigation bar: Decode → Build → Decode → Build', async () => {
  const { page, assertClean } = await openPage(browser);
  const header = 'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  await page.goto(new URL('decode', server.url).href);
  await expectText(page.getByTestId('page-title'), 'Decode');
  await page.getByTestId('tp-input').fill(header);
  // The page writes its fragment a moment after typing stops.
  await page.waitForFunction(() => location.hash.startsWith('#tp='));

  await page.getByTestId('nav-build').click();
  await expectText(page.getByTestId('page-title'), 'Build');
  const traceId = await waitFor(
    () => page.getByTestId('build-trace-id').inputValue(),
    (value) => /^[0-9a-f]{32}$/.test(value),
    'a new trace on Build',
  );
  await page.waitForFunction((traceId) => location.hash.includes(traceId), traceId);

  await page.getByTestId('nav-decode').click();
  await expectText(page.getByTestId('page-title'), 'Decode');
  await waitFor(() => page.getByTestId('tp-input').inputValue(), (value) => value === header, 'Decode keeps its input');
  // The navigation still marks the page shown, whatever its fragment.
  assert.equal(await page.getByTestId('nav-decode').getAttribute('aria-current'), 'page');

  await page.getByTestId('nav-build').click();
  await expectText(page.getByTestId('page-title'), 'Build');
  await waitFor(() => page.getByTestId('build-trace-id').inputValue(), (value) => value === traceId, 'Build keeps its trace');
  await assertClean();
});

test('the Sample page follows its fragment: an edited address bar, Back and Forward, an unreadable link', async () => {
  const { page, assertClean } = await openPage(browser);
  await page.goto(new URL(`sample#q=${encodeURIComponent('service:db')}`, server.url).href);
  const filter = () => page.getByTestId('wf-filter').inputValue();
  await waitFor(filter, (value) => value === 'service:db', 'the linked filter');
  await page.evaluate(() => {
    location.hash = '#q=error';
  });
  await waitFor(filter, (value) => value === 'error', 'the edited fragment');
  await page.goBack();
  await waitFor(filter, (value) => value === 'service:db', 'Back');
  await page.goForward();
  await waitFor(filter, (value) => value === 'error', 'Forward');
  await page.evaluate(() => {
    location.hash = '#q=%E0%A4%A';
  });
  await waitFor(
    async () => ((await page.getByTestId('wf-link-note').count()) > 0 ? page.getByTestId('wf-link-note').textContent() : ''),
    (text) => /not valid percent-encoding/.test(text),
    'the note on the unreadable link',
  );
  await assertClean();
});

test('a page keeps its input across a page load in between (the tab remembers it)', async () => {
  const { page, assertClean } = await openPage(browser);
  const header = 'traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  await page.goto(new URL('decode', server.url).href);
  await expectText(page.getByTestId('page-title'), 'Decode');
  await page.getByTestId('tp-input').fill(header);
  await page.waitForFunction(() => location.hash.startsWith('#tp='));
  await page.getByTestId('nav-build').click();
  await expectText(page.getByTestId('page-title'), 'Build');
  // A page load, as between pages the app loads apart.
  await page.reload();
  await expectText(page.getByTestId('page-title'), 'Build');
  await page.getByTestId('nav-decode').click();
  await expectText(page.getByTestId('page-title'), 'Decode');
  await waitFor(() => page.getByTestId('tp-input').inputValue(), (value) => value === header, 'Decode keeps its input');
  await assertClean();
});
