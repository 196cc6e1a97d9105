// Debian's Chromium driven by playwright-core, for end-to-end tests of the web pages. Every context
// records the requests its pages make (only the server may be contacted) and serves the pages under
// a strict Content-Security-Policy, so that any inline script or style shows up as a violation.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { ROOT } from './process.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const RESULTS = join(ROOT, 'test-results');

// What the pages must live with once the server sends its own policy: nothing but 'self'.
export const STRICT_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  // data: as the server allows it: the 2FA QR code is an SVG image in a data: URL.
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE_PATHS = new Set([
  '/',
  '/login',
  '/register',
  '/account',
  '/admin',
  '/forgot',
  '/reset',
  '/verify',
]);

/** Launches Chromium; Playwright gives it a fresh, temporary user-data directory. */
export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} not found: run \`bash .ci/chromium.sh\` (apt-get install chromium)`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

export interface Device {
  context: BrowserContext;
  /** Every URL the pages of this context requested. */
  requests: string[];
  /** Content-Security-Policy violations and uncaught page errors. */
  problems: string[];
  page(): Promise<Page>;
  /** Fails when any request left the server or any page broke its policy; then closes. */
  close(): Promise<void>;
}

export interface DeviceOptions {
  phone?: boolean;
  userAgent?: string;
  dark?: boolean;
}

/** A browser profile of its own (cookies, storage): one "device" of a user. */
export async function newDevice(
  browser: Browser,
  serverUrl: string,
  options: DeviceOptions = {},
): Promise<Device> {
  const context = await browser.newContext({
    viewport: options.phone ? { width: 390, height: 844 } : { width: 1280, height: 860 },
    deviceScaleFactor: 1,
    isMobile: options.phone === true,
    hasTouch: options.phone === true,
    userAgent: options.userAgent,
    colorScheme: options.dark ? 'dark' : 'light',
    locale: 'en-GB',
    timezoneId: 'UTC',
  });
  context.setDefaultTimeout(15_000);
  const server = new URL(serverUrl);
  const requests: string[] = [];
  const problems: string[] = [];
  context.on('request', (request) => {
    requests.push(request.url());
  });
  await context.route(
    (url) => url.host === server.host && PAGE_PATHS.has(url.pathname),
    async (route) => {
      if (route.request().resourceType() !== 'document') return route.fallback();
      const response = await route.fetch();
      return route.fulfill({
        response,
        headers: { ...response.headers(), 'content-security-policy': STRICT_CSP },
      });
    },
  );
  function watch(page: Page): Page {
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    return page;
  }
  context.on('page', watch);
  return {
    context,
    requests,
    problems,
    page: () => context.newPage(),
    async close() {
      await context.close();
      const foreign = requests.filter((url) => {
        const parsed = new URL(url);
        return !['data:', 'blob:'].includes(parsed.protocol) && parsed.host !== server.host;
      });
      assert.deepEqual(foreign, [], 'the pages contacted only the server');
      assert.deepEqual(problems, [], 'no CSP violation and no script error');
    },
  };
}

/** Saves a full-page screenshot to test-results/NAME.png (for people to look at). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(RESULTS, { recursive: true });
  await page.screenshot({ path: join(RESULTS, `${name}.png`), fullPage: true });
}
