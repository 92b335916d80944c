// Drives Debian's Chromium (headless) over traceadal HTML reports and prints what it saw as
// one JSON document on stdout. The assertions live in tests/html_browser.rs; this script
// only observes. Usage: node check.js SPEC.json
//
// SPEC: {"chromium": "/usr/bin/chromium", "screenshots": DIR, "pages": [{"name", "file"}]}
// For each page, loaded from file:// as a mail attachment would be:
//   console errors and page errors, every request the page made, the arrows of each
//   sequence diagram, whether planted markup ran, the page text, what the copy button
//   put on the clipboard (with the asynchronous clipboard, and with the execCommand
//   fallback when navigator.clipboard is missing), and a full-page screenshot.
'use strict';

const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

async function readClipboard(context, origin) {
  const page = await context.newPage();
  try {
    await page.goto(origin);
    return await page.evaluate(() => navigator.clipboard.readText());
  } finally {
    await page.close();
  }
}

async function writeClipboard(context, origin, value) {
  const page = await context.newPage();
  try {
    await page.goto(origin);
    await page.evaluate((v) => navigator.clipboard.writeText(v), value);
  } finally {
    await page.close();
  }
}

async function clickCopy(page) {
  const button = page.locator('button[data-copy]').first();
  if ((await button.count()) === 0) {
    return null;
  }
  await button.click();
  await page.waitForFunction(() => {
    const b = document.querySelector('button[data-copy]');
    return b && b.hasAttribute('data-copied');
  }, null, { timeout: 5000 });
  return await button.getAttribute('data-copied');
}

async function observe(context, origin, spec, shots) {
  const page = await context.newPage();
  const consoleErrors = [];
  const requests = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') {
      consoleErrors.push(`${m.type()}: ${m.text()}`);
    }
  });
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
  page.on('request', (r) => requests.push(r.url()));
  const url = 'file://' + path.resolve(spec.file);
  await page.goto(url, { waitUntil: 'load' });
  // Give anything planted a chance to run.
  await page.waitForTimeout(300);

  const facts = await page.evaluate(() => {
    const flows = [];
    for (const seq of document.querySelectorAll('.seq[data-flow]')) {
      const ids = (sel) => Array.from(seq.querySelectorAll(sel)).map((g) => Number(g.getAttribute('data-session')));
      flows.push({
        flow: Number(seq.getAttribute('data-flow')),
        req: ids('g.arrow[data-dir="req"]'),
        resp: ids('g.arrow[data-dir="resp"]'),
        noResponse: ids('g.noresp'),
        attempts: seq.querySelectorAll('.attempt').length,
        folds: Array.from(seq.querySelectorAll('details.fold')).map((d) => Number(d.getAttribute('data-count'))),
        visibleReq: Array.from(seq.querySelectorAll('g.arrow[data-dir="req"]')).filter((g) => g.checkVisibility()).length,
      });
    }
    const broken = [];
    for (const a of document.querySelectorAll('a[href^="#"]')) {
      const id = decodeURIComponent(a.getAttribute('href').slice(1));
      if (!document.getElementById(id)) broken.push(id);
    }
    return {
      title: document.title,
      verdict: (document.querySelector('.verdict h2') || {}).textContent || null,
      flows,
      brokenLinks: broken,
      scripts: document.scripts.length,
      pwned: typeof window.__pwned === 'undefined' ? null : String(window.__pwned),
      text: document.body.innerText,
      fixScript: (document.querySelector('pre.script') || {}).textContent || null,
    };
  });

  // Expand the folded attempts: every arrow becomes visible.
  const expand = page.locator('button.expand').first();
  if ((await expand.count()) > 0) {
    await expand.click();
    facts.visibleReqExpanded = await page.evaluate(() => document.querySelectorAll('.seq g.arrow[data-dir="req"]').length
      === Array.from(document.querySelectorAll('.seq g.arrow[data-dir="req"]')).filter((g) => g.checkVisibility()).length);
    await page.locator('button.collapse').first().click();
  }

  // A session link opens its target and marks it.
  // The last link may sit in a folded attempt: take the last one a reader can see.
  const link = page.locator('.seq a.sid:visible').last();
  if ((await link.count()) > 0) {
    await link.click();
    // The page marks the target on `hashchange`, which fires after the click returns:
    // wait for it (at most 5 s) rather than read the page at once.
    const marked = () => {
      const el = document.getElementById(decodeURIComponent(location.hash.slice(1)));
      return !!el && el.classList.contains('hit');
    };
    facts.linkTargetMarked = await page
      .waitForFunction(marked, null, { timeout: 5000 })
      .then(() => true, () => false);
  }

  // The copy button, with the asynchronous clipboard.
  await writeClipboard(context, origin, 'before');
  facts.copied = await clickCopy(page);
  facts.clipboard = facts.copied === null ? null : await readClipboard(context, origin);

  await page.evaluate(() => window.scrollTo(0, 0));
  const shot = path.join(shots, `${spec.name}.png`);
  await page.screenshot({ path: shot, fullPage: true });
  facts.screenshot = shot;
  // The first screen, and the flows and timeline on their own, for a person to look at.
  await page.screenshot({ path: path.join(shots, `${spec.name}-top.png`) });
  for (const part of ['flows', 'timeline-s']) {
    const el = page.locator(`section.${part}`).first();
    if ((await el.count()) > 0) {
      await el.screenshot({ path: path.join(shots, `${spec.name}-${part.replace('-s', '')}.png`) });
    }
  }
  facts.consoleErrors = consoleErrors;
  facts.requests = requests;
  facts.url = url;
  await page.close();

  // The fallback: no navigator.clipboard (as in some file:// and older browsers).
  const bare = await context.newPage();
  await bare.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, 'clipboard', { get: () => undefined, configurable: true });
  });
  const bareErrors = [];
  bare.on('pageerror', (e) => bareErrors.push(e.message));
  await bare.goto(url, { waitUntil: 'load' });
  await writeClipboard(context, origin, 'before');
  facts.copiedFallback = await clickCopy(bare);
  facts.clipboardFallback = facts.copiedFallback === null ? null : await readClipboard(context, origin);
  facts.consoleErrors.push(...bareErrors.map((m) => `pageerror (fallback page): ${m}`));
  await bare.close();
  return facts;
}

async function main() {
  const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  fs.mkdirSync(spec.screenshots, { recursive: true });
  // A loopback origin for reading the clipboard back (clipboard access needs a secure
  // context; the report itself is opened from file://).
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!DOCTYPE html><title>clipboard</title>');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${server.address().port}/`;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'traceadal-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: spec.chromium,
    headless: true,
    args: FLAGS,
    viewport: { width: 1100, height: 900 },
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  const results = [];
  try {
    for (const p of spec.pages) {
      try {
        results.push(Object.assign({ name: p.name }, await observe(context, origin, p, spec.screenshots)));
      } catch (e) {
        results.push({ name: p.name, failure: String(e && e.stack || e) });
      }
    }
  } finally {
    await context.close();
    server.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify({ browser: 'chromium', results }, null, 1) + '\n');
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack || e) + '\n');
  process.exit(3);
});
