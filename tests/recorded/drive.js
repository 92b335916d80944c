// Drives Debian's Chromium through the recording proxy over client.html (see record.sh).
// Usage: node drive.js CHROMIUM PROXY_PORT NETLOG_FILE ROUNDS
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require(path.join(__dirname, '../browser/node_modules/playwright-core'));

async function main() {
  const [exe, proxyPort, netlog, rounds] = process.argv.slice(2);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'traceadal-record-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: exe,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      `--proxy-server=http://127.0.0.1:${proxyPort}`,
      // The proxy's certificates are mitmproxy's own; this profile is thrown away.
      '--ignore-certificate-errors',
      `--log-net-log=${netlog}`, '--net-log-capture-mode=Everything',
    ],
  });
  try {
    const page = context.pages()[0] || (await context.newPage());
    await page.goto('file://' + path.join(__dirname, 'client.html') + `?rounds=${rounds}`);
    await page.waitForFunction(() => window.recordingDone === true, null, { timeout: 60000 });
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack || e) + '\n');
  process.exit(1);
});
