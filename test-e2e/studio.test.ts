// The web studio in headless Chromium: type a prompt, submit, wait for the video, check that it plays, screenshot.
// Needs the Debian `chromium` binary (or CHROMIUM_PATH); playwright-core drives it.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import type { RunningServer } from '../src/server/server.js';
import { startTestServer, testGenerator } from '../test/server/helpers.js';

const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && existsSync(p));
/** Where the screenshot goes (README shows it); out/ is ignored by git. */
const SCREENSHOT = resolve(process.env.TESSERA_SCREENSHOT ?? 'out/studio.png');

if (!CHROMIUM) {
  test('studio (skipped: chromium is not installed; apt-get install chromium)', { skip: true }, () => {});
} else {
  describe('web studio in headless Chromium', () => {
    let server: RunningServer;
    let browser: Browser;
    before(async () => {
      server = await startTestServer({ generator: testGenerator('stepMs=20,steps=10') });
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--autoplay-policy=no-user-gesture-required'] });
    });
    after(async () => {
      await browser?.close();
      await server?.close();
    });

    it('generates a video from a typed prompt and plays it', async () => {
      const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(server.url);
      await page.waitForSelector('#size option', { state: 'attached' });
      await page.fill('#prompt', 'a red ball rolls across a wooden table');
      await page.fill('#seconds', '2');
      await page.fill('#seed', '42');
      await page.click('#generate');
      // The queue shows it with a progress bar, then the gallery gets a player.
      await page.waitForSelector('#queue li.job progress', { timeout: 15_000 });
      await page.waitForSelector('.card video[data-ready="1"]', { timeout: 30_000 });
      const duration = await page.$eval('.card video', (v) => {
        const video = v as HTMLVideoElement;
        return new Promise<number>((resolveDuration, reject) => {
          if (video.readyState >= 1) return resolveDuration(video.duration);
          video.addEventListener('loadedmetadata', () => resolveDuration(video.duration), { once: true });
          video.addEventListener('error', () => reject(new Error(`video error ${video.error?.code}`)), { once: true });
        });
      });
      assert.ok(duration > 0, `duration ${duration}`);
      const played = await page.$eval('.card video', async (v) => {
        const video = v as HTMLVideoElement;
        await video.play();
        await new Promise((r) => setTimeout(r, 300));
        return video.currentTime;
      });
      assert.ok(played > 0, `currentTime ${played} after play()`);
      assert.match((await page.textContent('.card .prompt')) ?? '', /red ball/);
      assert.deepEqual(errors, []);
      mkdirSync(dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT });
      assert.ok(existsSync(SCREENSHOT));
    });
  });
}
