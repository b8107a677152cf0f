// Debian's chromium (/usr/bin/chromium, or $CHROMIUM) through playwright-core, headless, with
// the flags every e2e test and tools/bench_web.sh use; each launch gets a fresh profile.
import { chromium } from "playwright-core";

export const chromiumArgs = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

export function launch() {
  return chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: chromiumArgs });
}
