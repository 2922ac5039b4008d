import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ROOT } from '../worker/support.js';

/*
 * Browser tests: Debian's chromium (never a downloaded browser) driven by playwright-core,
 * against the UI that `npm run build` puts in web/dist, served by a real server.
 */

export const CHROMIUM = process.env.DROVER_CHROMIUM ?? '/usr/bin/chromium';
/** A laptop screen; the screenshots in docs/ are taken at this size. */
export const VIEWPORT = { width: 1366, height: 768 };
export const SCREENSHOTS = join(ROOT, 'docs/screenshots');

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

/** Builds web/dist when it is missing or older than web/src; a lock keeps builds apart. */
export function ensureUiBuilt(): void {
  const lock = join(tmpdir(), 'drover-ui-build.lock');
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`could not take ${lock}`);
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 120_000) {
        rmSync(lock, { recursive: true, force: true });
      }
      execFileSync('sleep', ['0.2']);
    }
  }
  try {
    const index = join(ROOT, 'web/dist/index.html');
    const built = existsSync(index) ? statSync(index).mtimeMs : 0;
    const sources = Math.max(
      newestMtime(join(ROOT, 'web/src')),
      newestMtime(join(ROOT, 'web/index.html')),
    );
    if (built < sources) {
      execFileSync(
        'npx',
        ['vite', 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'],
        {
          cwd: ROOT,
          stdio: 'pipe',
        },
      );
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface Browser {
  page: Page;
  context: BrowserContext;
  /** Console errors and failed requests the page saw, for failure messages. */
  problems: string[];
  close(): Promise<void>;
}

export async function openBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: apt-get update && apt-get install -y chromium`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'drover-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: VIEWPORT,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  page.on('console', (message) => {
    // Refusals (4xx) are part of the tests; the page shows them as messages.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      problems.push(`console: ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  return {
    page,
    context,
    problems,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Writes a screenshot to docs/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}
