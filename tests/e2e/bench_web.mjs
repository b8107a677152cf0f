// tools/bench_web.sh's browser side: time to the first rendered chat list, measured in the page
// (performance.now(), from the navigation's start to the paint after the list with all its chats
// appears), over LOADS loads in headless chromium: cold (a new context each: no HTTP cache, a
// new update stream) and warm (reloads of one page). Prints p50, p90, min and max.
//   BENCH_URL=http://127.0.0.1:PORT BENCH_DATA_DIR=DIR BENCH_CHATS=20 node bench_web.mjs [LOADS]
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { launch } from "./chromium.mjs";

const base = process.env.BENCH_URL;
const chats = Number(process.env.BENCH_CHATS ?? 20);
const loads = Number(process.argv[2] ?? 20);

// In the page: when the chat list holds every chat, the time of the paint after it.
function recordListShown(count) {
  const observer = new MutationObserver(() => {
    const list = document.querySelector("ul.chats");
    if (!list || list.children.length < count || "listShownAt" in window) return;
    window.listShownAt = null;
    observer.disconnect();
    requestAnimationFrame(() => setTimeout(() => { window.listShownAt = performance.now(); }));
  });
  observer.observe(document, { childList: true, subtree: true });
}

// One load: when the list was painted, and when the document's scripts had run (DOMContentLoaded).
async function timeLoad(page, load) {
  await load();
  const handle = await page.waitForFunction(() => window.listShownAt ?? false, null, { timeout: 15000 });
  const dcl = await page.evaluate(() => performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd);
  return { list: await handle.jsonValue(), dcl };
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const summary = (loads) => {
  const sorted = loads.map((l) => l.list).sort((a, b) => a - b);
  const dcl = loads.map((l) => l.dcl).sort((a, b) => a - b);
  const ms = (v) => `${v.toFixed(1)} ms`;
  return `p50 ${ms(percentile(sorted, 50))}, p90 ${ms(percentile(sorted, 90))} (min ${ms(sorted[0])}, ` +
    `max ${ms(sorted.at(-1))}; DOMContentLoaded p50 ${ms(percentile(dcl, 50))}; ${loads.length} loads)`;
};

const browser = await launch();
try {
  const signIn = await browser.newContext();
  const link = readFileSync(join(process.env.BENCH_DATA_DIR, "auth", "web-link"), "utf8").trim();
  const first = await signIn.newPage();
  await first.goto(link);
  await first.locator("ul.chats").waitFor();
  const storageState = await signIn.storageState();
  await signIn.close();

  const cold = [];
  for (let i = 0; i < loads; i++) {
    const context = await browser.newContext({ storageState });
    const page = await context.newPage();
    await page.addInitScript(recordListShown, chats);
    cold.push(await timeLoad(page, () => page.goto(base + "/chats")));
    await context.close();
  }
  const warm = [];
  const context = await browser.newContext({ storageState });
  const page = await context.newPage();
  await page.addInitScript(recordListShown, chats);
  await timeLoad(page, () => page.goto(base + "/chats"));
  for (let i = 0; i < loads; i++) warm.push(await timeLoad(page, () => page.reload()));
  await context.close();

  console.log(`time to the first rendered chat list (${chats} chats, loopback, headless chromium ${browser.version()}):`);
  console.log(`  cold (new context, no HTTP cache): ${summary(cold)}`);
  console.log(`  warm (reload, HTTP cache):         ${summary(warm)}`);
} finally {
  await browser.close();
}
