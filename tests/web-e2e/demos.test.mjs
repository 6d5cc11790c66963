// End to end on both demos, as a person uses them: type a prompt, click, watch the progress bar, status and
// ETA, see the image; start a video, cut the connection, watch the badge go reconnecting and back, see the video.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, serverUrl, counters, eventually, randomKey, screenshot } from './browser.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const DEMOS = [
  { name: 'plain', path: '/' },
  { name: 'react', path: '/react-demo/dist/' },
];

for (const demo of DEMOS) {
  test(`${demo.name} demo: image with live progress, then a video that survives a cut connection`, async () => {
    const key = randomKey(`demo_${demo.name}`);
    const page = await newPage(browser);
    try {
      await page.goto(`${serverUrl()}${demo.path}?key=${key}`);
      await page.waitForSelector('#badge[data-state="connected"]', { timeout: 15000 });
      assert.equal((await page.textContent('#badge')).trim(), 'Connected');
      assert.equal((await page.textContent('#key')).trim(), key);

      // An image: progress, status text and ETA while it runs, then the picture.
      await page.fill('#prompt', 'A red fox in fresh snow ms=3000 steps=6');
      await page.click('#gen-image');
      const image = page.locator('.task[data-type="image"]').first();
      await image.locator('.pct:not(:text-is("0%"))').waitFor({ timeout: 10000 });
      await eventually(async () => (await image.locator('.eta').textContent()).includes('left'), { what: 'an ETA' });
      const running = await image.getAttribute('data-status');
      assert.ok(['pending', 'in_progress'].includes(running), running);
      assert.match(await image.locator('.status').textContent(), /\w/);
      const width = await image.locator('.bar > span').evaluate((el) => el.style.width);
      assert.ok(parseFloat(width) > 0 && parseFloat(width) < 100, `bar width ${width}`);
      await screenshot(page, `${demo.name}-1-progress`);

      await page.waitForSelector('.task[data-type="image"][data-status="completed"] .media img', { timeout: 15000 });
      await page.waitForFunction(() => {
        const img = document.querySelector('.task[data-type="image"] .media img');
        return img && img.complete && img.naturalWidth > 0;
      });
      assert.equal((await image.locator('.pct').textContent()).trim(), '100%');
      await screenshot(page, `${demo.name}-2-image`);

      // A video, and the connection cut in the middle of it.
      const before = (await counters(key)).connections;
      await page.fill('#prompt', 'A paper boat drifting down a rainy street ms=7000 steps=14');
      await page.click('#gen-video');
      const video = page.locator('.task[data-type="video"]').first();
      await video.locator('.pct:not(:text-is("0%"))').waitFor({ timeout: 10000 });
      await page.click('#cut');
      await page.waitForSelector('#badge[data-state="reconnecting"]', { timeout: 5000 });
      assert.equal((await page.textContent('#badge')).trim(), 'Reconnecting…');
      await screenshot(page, `${demo.name}-3-reconnecting`);
      await page.waitForSelector('#badge[data-state="connected"]', { timeout: 15000 });
      const afterCut = await eventually(async () => {
        const c = (await counters(key)).connections;
        return c.opened >= before.opened + 2 && c.open === 2 && c;
      }, { what: 'both hubs reconnected' });
      assert.equal(afterCut.open, 2, 'one socket per hub after the recovery');

      await page.waitForSelector('.task[data-type="video"][data-status="completed"] .media video', { timeout: 20000 });
      const src = await video.locator('video').getAttribute('src');
      assert.match(src, /\/generated\/.+\.webm$/);
      assert.equal((await video.locator('.pct').textContent()).trim(), '100%');
      await page.waitForFunction(() => {
        const v = document.querySelector('.task[data-type="video"] video');
        return v && v.readyState >= 2;
      }, null, { timeout: 10000 }).catch(() => { /* a codec-less Chromium still shows the poster */ });
      await screenshot(page, `${demo.name}-4-recovered`);
      assert.equal(await page.locator('.task[data-status="failed"]').count(), 0);
    } catch (e) {
      await screenshot(page, `${demo.name}-failure`).catch(() => undefined);
      e.message += `\npage log:\n${page.logs.join('\n')}`;
      throw e;
    } finally {
      await page.close();
    }
  });
}
