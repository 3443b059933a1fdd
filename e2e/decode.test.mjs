// Browser tests of the Decode page (/decode) in the built app (dist/): the
// field view, the rules broken, tracestate entries, the share link, bad
// input, and that the page makes no request leaving 127.0.0.1.
// Elements are found by data-testid only.
//
// Run by `cargo xtask test` with the other browser tests; alone: `node --test`
// in e2e/ after `trunk build --release`.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { expectText, openPage } from './support/browser.mjs';
import { browser, server, useApp } from './support/harness.mjs';

const VALID = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
// Two rules broken: trace-id.uppercase and parent-id.all-zero.
const INVALID = '00-4BF92F3577B34DA6A3CE929D0E0E4736-0000000000000000-01';
const BLOCK = [
  'GET /bands/553be815-76f3-49db-b9d7-caca4b23cc3e HTTP/1.1',
  'Host: localhost:8000',
  `traceparent: ${VALID}`,
  'tracestate: rojo=00f067aa0ba902b7',
  'tracestate: congo=t61rcWkgMzE',
  'Accept: */*',
].join('\n');

useApp();

async function openDecode(hash = '') {
  const opened = await openPage(browser);
  await opened.page.goto(new URL(`decode${hash}`, server.url).href);
  await expectText(opened.page.getByTestId('page-title'), 'Decode');
  return opened;
}

/** Polls until `locator` matches exactly `expected` elements. */
async function expectCount(locator, expected, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  let actual;
  for (;;) {
    actual = await locator.count();
    if (actual === expected || Date.now() >= deadline) {
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(actual, expected);
}

/** Waits until the verdict's text matches `pattern`, and returns the text. */
async function expectVerdict(page, pattern, timeoutMs = 10_000) {
  const verdict = page.getByTestId('tp-verdict');
  const deadline = Date.now() + timeoutMs;
  let text;
  for (;;) {
    text = (await verdict.count()) > 0 ? await verdict.textContent() : '';
    if (pattern.test(text) || Date.now() >= deadline) {
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.match(text, pattern);
  return text;
}

test('a valid traceparent decodes field by field and is valid', async () => {
  const { page, assertClean } = await openDecode();
  await page.getByTestId('tp-input').fill(VALID);

  await expectText(page.getByTestId('tp-field-version'), '00');
  await expectText(page.getByTestId('tp-field-trace-id'), '4bf92f3577b34da6a3ce929d0e0e4736');
  await expectText(page.getByTestId('tp-field-parent-id'), '00f067aa0ba902b7');
  await expectText(page.getByTestId('tp-field-flags'), '01');
  await expectVerdict(page, /\bvalid\b/);
  assert.doesNotMatch(await page.getByTestId('tp-verdict').textContent(), /invalid/);
  await expectCount(page.getByTestId('tp-error'), 0);
  await expectCount(page.getByTestId('tp-flag-bit'), 8);
  await expectText(page.getByTestId('tp-decision-action'), 'continue');
  // The receiver keeps the trace-id and sends its own span as parent.
  const next = await page.getByTestId('tp-next-traceparent').textContent();
  assert.match(next, /^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
  assert.doesNotMatch(next, /00f067aa0ba902b7/);
  await assertClean();
});

test('an invalid traceparent lists each rule broken, marked in the value', async () => {
  const { page, assertClean } = await openDecode();
  await page.getByTestId('tp-input').fill(INVALID);

  await expectVerdict(page, /\binvalid\b/);
  const errors = page.getByTestId('tp-error');
  await expectCount(errors, 2);
  const rules = await page.getByTestId('tp-error-rule').allTextContents();
  assert.deepEqual(rules, ['trace-id.uppercase', 'parent-id.all-zero']);
  // The exact characters: the uppercase run of the trace-id, the zero parent-id.
  assert.equal(await errors.nth(1).locator('mark').textContent(), '0000000000000000');
  assert.match(await errors.nth(0).locator('mark').textContent(), /^BF92F3577B34DA6A3CE929D0/);
  await expectText(page.getByTestId('tp-decision-action'), 'restart');
  await assertClean();
});

test('a header block with two tracestate lines gives both entries', async () => {
  const { page, assertClean } = await openDecode();
  await page.getByTestId('tp-input').fill(BLOCK);

  await expectCount(page.getByTestId('ts-entry'), 2);
  const entries = await page.getByTestId('ts-entry').allTextContents();
  assert.match(entries[0], /rojo/);
  assert.match(entries[1], /congo/);
  await expectCount(page.getByTestId('found-header'), 3);
  await expectText(page.getByTestId('tp-ignored'), '3 lines ignored (not a trace context header).');
  await expectVerdict(page, /\bvalid\b/);
  await expectText(page.getByTestId('tp-next-tracestate'), 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE');
  await assertClean();
});

test('the examples fill the input', async () => {
  const { page, assertClean } = await openDecode();
  await page.getByTestId('tp-hint').waitFor();
  await page.getByTestId('tp-example-invalid').click();
  await expectVerdict(page, /\binvalid\b/);
  assert.equal(await page.getByTestId('tp-input').inputValue(), INVALID);
  await page.getByTestId('tp-input').fill('');
  await page.getByTestId('tp-example-tracestate').click();
  await expectCount(page.getByTestId('ts-entry'), 2);
  await assertClean();
});

test('keyboard alone: Tab from the input to an example, Enter fills it', async () => {
  const { page, assertClean } = await openDecode();
  await page.getByTestId('tp-hint').waitFor();
  await page.getByTestId('tp-input').focus();
  await page.keyboard.press('Tab');
  assert.equal(
    await page.evaluate(() => document.activeElement?.getAttribute('data-testid')),
    'tp-example-valid',
  );
  await page.keyboard.press('Enter');
  await expectVerdict(page, /\bvalid\b/);
  // Focus goes back to the input, ready for editing.
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'tp-input');
  await page.keyboard.press('End');
  await page.keyboard.type('x');
  await expectVerdict(page, /\binvalid\b/);
  await assertClean();
});

test('the URL fragment is a share link that reopens the same input', async () => {
  const first = await openDecode();
  await first.page.getByTestId('tp-input').fill(BLOCK);
  await expectCount(first.page.getByTestId('ts-entry'), 2);
  // The fragment is written a moment after typing stops.
  await first.page.waitForFunction(() => location.hash.startsWith('#tp='));
  const link = first.page.url();
  assert.equal(new URL(link).pathname, '/decode');
  assert.equal(decodeURIComponent(new URL(link).hash.slice('#tp='.length)), BLOCK);
  await first.assertClean();

  const { page, assertClean } = await openPage(browser);
  await page.goto(link);
  await expectCount(page.getByTestId('ts-entry'), 2);
  assert.equal(await page.getByTestId('tp-input').inputValue(), BLOCK);
  await expectText(page.getByTestId('tp-field-trace-id'), '4bf92f3577b34da6a3ce929d0e0e4736');
  await expectVerdict(page, /\bvalid\b/);
  await assertClean();
});

test('a link built by hand with the invalid sample reopens its report', async () => {
  const { page, assertClean } = await openDecode(`#tp=${encodeURIComponent(INVALID)}`);
  await expectVerdict(page, /\binvalid\b/);
  await expectCount(page.getByTestId('tp-error'), 2);
  await assertClean();
});

/** About `n` characters made by repeating `pieces`. */
function junkOf(pieces, n = 1_000_000) {
  let text = '';
  for (let i = 0; text.length < n; i += 1) {
    text += pieces[i % pieces.length];
  }
  return text;
}

test('a megabyte of junk gets a short report, no page error, and stays out of the URL', async () => {
  const { page, assertClean } = await openDecode();
  // One line of binary bytes, emoji and dashes: taken as a bare traceparent.
  // (Emoji are kept sparse: Chromium's own editing code, which page.fill
  // drives, takes seconds per megabyte of them before the page sees a thing.)
  const junk = junkOf(['\u0001\u0002\u00ff', 'zz-junk-'.repeat(40), '🎉', '\u0000traceparent']);
  await page.getByTestId('tp-input').fill(junk, { timeout: 60_000 });
  await expectVerdict(page, /\binvalid\b/, 30_000);
  // Capped: a few rules, each drawn once with its places cut short.
  const errors = await page.getByTestId('tp-error').count();
  assert.ok(errors > 0 && errors < 30, `${errors} tp-error elements`);
  await expectText(
    page.getByTestId('tp-share-note'),
    'This input is too long to keep in the link (over 4096 characters encoded), so the address bar does not hold it.',
  );
  assert.equal(new URL(page.url()).hash, '');

  // The page still answers: a valid value replaces the junk.
  await page.getByTestId('tp-input').fill(VALID);
  await expectText(page.getByTestId('tp-field-flags'), '01');
  await expectVerdict(page, /\bvalid\b/);
  await assertClean();
});

test('a pasted megabyte of many lines lists a capped number of ignored lines', async () => {
  const { page, assertClean } = await openDecode();
  // Set as one paste would, in one input event: page.fill types line breaks
  // through Chromium's editing code, which takes minutes for 60,000 lines.
  const lines = junkOf(['GET /x HTTP/1.1 🦀 \u0007', '\n', 'tracestate: =,,a=\u0001', '\n']);
  await page.getByTestId('tp-input').evaluate((textarea, text) => {
    textarea.value = text;
    textarea.dispatchEvent(new Event('input', { bubbles: true }));
  }, lines);
  await expectVerdict(page, /\binvalid\b/, 30_000);
  await expectCount(page.getByTestId('found-header'), 20);
  assert.match(await page.getByTestId('tp-ignored').textContent(), /^\d+ lines ignored/);
  assert.ok((await page.getByTestId('ts-entry').count()) <= 256);
  await assertClean();
});

test('the decode page fits 360 px with a long tracestate', async () => {
  const { page, assertClean } = await openPage(browser, { width: 360, height: 740 });
  const longState = Array.from({ length: 12 }, (_, i) => `vendor${i}=${'ab'.repeat(30)}`).join(',');
  await page.goto(
    new URL(`decode#tp=${encodeURIComponent(`traceparent: ${INVALID}\ntracestate: ${longState}`)}`, server.url).href,
  );
  await expectCount(page.getByTestId('ts-entry'), 12);
  const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(scrollWidth <= 360, `/decode is ${scrollWidth}px wide`);
  await assertClean();
});

test('a bare traceparent is found with a tracestate line after it', async () => {
  const { page, assertClean } = await openDecode();
  await page.getByTestId('tp-input').fill(`${VALID}\ntracestate: rojo=00f067aa0ba902b7`);
  await expectText(page.getByTestId('tp-field-trace-id'), '4bf92f3577b34da6a3ce929d0e0e4736');
  await expectCount(page.getByTestId('ts-entry'), 1);
  await expectVerdict(page, /^\W*valid\b/);
  await expectText(page.getByTestId('tp-decision-action'), 'continue');
  // Several candidates: the page says which one was taken and why.
  await page.getByTestId('tp-input').fill(`${INVALID}\n${VALID}`);
  await expectText(page.getByTestId('tp-field-parent-id'), '00f067aa0ba902b7');
  assert.match(await page.getByTestId('tp-choice').textContent(), /^Line 2 was taken .* first that is valid/);
  await assertClean();
});

test("other systems' headers are named with their ids, never blamed for W3C rules", async () => {
  const { page, assertClean } = await openDecode();
  await page.getByTestId('tp-input').fill(
    [
      'X-Amzn-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
      'b3: 80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1',
      'uber-trace-id: 4bf92f3577b34da6a3ce929d0e0e4736:f067aa0ba902b7:0:1',
      `traceparant: ${VALID}`,
    ].join('\n'),
  );
  await expectCount(page.getByTestId('other-header'), 4);
  await expectCount(page.getByTestId('tp-error'), 0);
  await expectVerdict(page, /only other trace headers/);
  const texts = async (id) => page.getByTestId(id).allTextContents();
  assert.deepEqual(await texts('other-header-name'), ['X-Amzn-Trace-Id', 'b3', 'uber-trace-id', 'traceparant']);
  assert.deepEqual(await texts('other-trace-id'), [
    '5759e988bd862e3fe1be46a994272793',
    '80f198ee56343ba864fe8b2a57d3eff7',
    '4bf92f3577b34da6a3ce929d0e0e4736',
    '4bf92f3577b34da6a3ce929d0e0e4736',
  ]);
  assert.deepEqual(await texts('other-span-id'), [
    '53995c3f42cd8ad8',
    'e457b5a2e4d86bd1',
    '00f067aa0ba902b7',
    '00f067aa0ba902b7',
  ]);
  assert.deepEqual(await texts('other-did-you-mean'), ['did you mean traceparent?']);
  await assertClean();
});

test('a tracestate key older grammars reject is valid, with the level-1 warning', async () => {
  const { page, assertClean } = await openDecode();
  await page.getByTestId('tp-input').fill(`traceparent: ${VALID}\ntracestate: rojo=1,foo@bar@baz=2`);
  await expectVerdict(page, /^\W*valid, with 1 warning/);
  const finding = page.getByTestId('tp-error');
  await expectCount(finding, 1);
  assert.equal(await finding.getAttribute('data-rule'), 'tracestate.key.level-1');
  assert.match(await finding.textContent(), /OpenTelemetry's TraceState rejects it \(two '@'\)/);
  await assertClean();
});

test('messages quote a paste as it reads, naming invisible characters', async () => {
  const { page, assertClean } = await openDecode();
  await page.getByTestId('tp-input').fill(`"${VALID}"`);
  await expectVerdict(page, /\binvalid\b/);
  const messages = async () => (await page.getByTestId('tp-error').allTextContents()).join('\n');
  assert.match(await messages(), /version '"00' has 3 characters; it needs 2/);
  await page.getByTestId('tp-input').fill(`\u00a0${VALID}`);
  await waitForText(messages, /a no-break space, U\+00A0, before 00/);
  assert.doesNotMatch(await messages(), /\\u\{|\\"/);
  await assertClean();
});

/** Polls `read` until its text matches `pattern`. */
async function waitForText(read, pattern, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  let text;
  for (;;) {
    text = await read();
    if (pattern.test(text) || Date.now() >= deadline) {
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.match(text, pattern);
}

test('the page follows its fragment: an edited address bar, back and forward, an unreadable link', async () => {
  const { page, assertClean } = await openDecode(`#tp=${encodeURIComponent(VALID)}`);
  await expectText(page.getByTestId('tp-field-parent-id'), '00f067aa0ba902b7');
  // An edited address bar: a new history entry with another fragment.
  await page.evaluate((hash) => {
    location.hash = hash;
  }, `#tp=${encodeURIComponent(INVALID)}`);
  await expectText(page.getByTestId('tp-field-parent-id'), '0000000000000000');
  assert.equal(await page.getByTestId('tp-input').inputValue(), INVALID);
  await expectVerdict(page, /\binvalid\b/);
  // Back and forward between the two links.
  await page.goBack();
  await expectText(page.getByTestId('tp-field-parent-id'), '00f067aa0ba902b7');
  assert.equal(await page.getByTestId('tp-input').inputValue(), VALID);
  await page.goForward();
  await expectText(page.getByTestId('tp-field-parent-id'), '0000000000000000');
  // An unreadable fragment gets the note a fresh load shows, and stays in
  // the address bar as it would on a fresh load.
  await page.evaluate(() => {
    location.hash = '#tp=%E0%A4%A';
  });
  await expectText(
    page.getByTestId('tp-share-note'),
    "The link's #tp= part is not valid percent-encoding, so nothing was loaded from it.",
  );
  assert.equal(await page.getByTestId('tp-input').inputValue(), '');
  await new Promise((resolve) => setTimeout(resolve, 600));
  assert.equal(new URL(page.url()).hash, '#tp=%E0%A4%A');
  // The page's own writes are not answered: typing still updates the link once.
  await page.getByTestId('tp-input').fill(VALID);
  await page.waitForFunction((v) => {
    try {
      return decodeURIComponent(location.hash.slice('#tp='.length)) === v;
    } catch {
      return false; // still the unreadable fragment
    }
  }, VALID);
  assert.equal(await page.getByTestId('tp-input').inputValue(), VALID);
  await assertClean();
});
