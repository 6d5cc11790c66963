// Cold start: navigation to connected in a new browser context per sample (empty cache; the server sends no-store).
import { summary, rotate, positive } from '../stats.mjs';

const CLIENTS = ['ours', 'hinted', 'official', 'raw'];

export async function coldStart({ cfg, browser, site, server, log, problem }) {
  const samples = Object.fromEntries(CLIENTS.map((c) => [c, { ready: [], connected: [] }]));
  for (let round = 0; round < cfg.rounds; round++) {
    log(`cold start: round ${round + 1}/${cfg.rounds}`);
    for (const client of rotate(CLIENTS, round)) {
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        await page.goto(`${site}/cold-${client}.html?server=${encodeURIComponent(server)}`);
        const r = await (await page.waitForFunction(() => window.cold, null, { timeout: 30_000 })).jsonValue();
        if (!positive(r.ready, r.connected)) problem(`cold start ${client}: ${JSON.stringify(r)}`);
        samples[client].ready.push(r.ready);
        samples[client].connected.push(r.connected);
      } finally {
        await context.close();
      }
    }
  }
  return CLIENTS.map((client) => ({ client, ready: summary(samples[client].ready), connected: summary(samples[client].connected) }));
}
