// Drives the useStream page (bundled by build.mjs, served by the test from another origin than the API) in headless
// Chromium through a human-in-the-loop run, a reload, a rejoin of a running run and a stop.
// Usage: node drive.mjs <pageOrigin> <apiUrl> <apiKey> [chromium]. Prints one line per check; exits 1 on a failure.
// FLUXGRAPH_DEBUG=1 also prints every change of what the page shows while waiting.
import puppeteer from "puppeteer-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [pageOrigin, apiUrl, apiKey, executablePath = "/usr/bin/chromium"] = process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), "fluxgraph-chromium-"));
const browser = await puppeteer.launch({
  executablePath,
  headless: true,
  userDataDir: profile,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const problems = []; // what the page printed as errors (a CORS refusal shows up here)
const runStreams = []; // the URLs of run streams the page opened (a rejoin is a GET of .../runs/{id}/stream)

async function finish(code) {
  await browser.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
  process.exit(code);
}

class CheckFailed extends Error {}

function check(condition, what, detail) {
  if (!condition) {
    console.error(`FAIL ${what}: ${JSON.stringify(detail)}`);
    console.error(`page errors: ${JSON.stringify(problems)}`);
    throw new CheckFailed(what);
  }
  console.log(`ok ${what}`);
}

const page = await browser.newPage();
page.on("console", (message) => {
  if (message.type() === "error") problems.push(message.text());
});
page.on("pageerror", (error) => problems.push(String(error)));
page.on("request", (request) => {
  if (/\/runs\/[^/]+\/stream/.test(request.url()) && request.method() === "GET") runStreams.push(request.url());
});

/** What the page shows, read in one go (separate reads could straddle a React commit). */
const snapshot = () => page.evaluate(() => {
  const text = (id) => document.getElementById(id).textContent;
  return { values: JSON.parse(text("values") || "null"), interrupt: text("interrupt"), loading: text("loading"),
    error: text("error"), thread: text("thread"), run: text("run") };
});

/** Waits (up to 20 s) until the page shows what `predicate` wants; fails with what it shows instead. */
async function until(what, predicate) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const shown = await snapshot();
    if (process.env.FLUXGRAPH_DEBUG && JSON.stringify(shown) !== until.last) {
      until.last = JSON.stringify(shown);
      console.log(`  ${what}: ${until.last}`);
    }
    if (predicate(shown)) return shown;
    if (Date.now() > deadline) return check(false, what, shown);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const open = (assistant, thread) => page.goto(`${pageOrigin}/?${new URLSearchParams({ api: apiUrl, key: apiKey,
  assistant, ...(thread ? { thread } : {}) })}`, { waitUntil: "load" });

async function type(id, value) {
  await page.$eval(`#${id}`, (element) => { element.value = ""; });
  await page.type(`#${id}`, value);
}

const api = (path, init = {}) => fetch(`${apiUrl}${path}`, { ...init,
  headers: { "x-api-key": apiKey, "content-type": "application/json", ...init.headers } }).then((r) => r.json());

async function scenario() {
  // 1. human in the loop: submit, see the interrupt, resume, see the final values
  await open("review");
  check(new URL(page.url()).origin !== new URL(apiUrl).origin, "the page comes from another origin than the API",
    { page: page.url(), apiUrl });
  await type("topic", "otters");
  await page.click("#submit");
  const paused = await until("the interrupt is shown",
    (shown) => shown.interrupt.includes("approve draft about otters?") && shown.loading === "false");
  check(paused.values.draft === "draft about otters", "the streamed values before the interrupt", paused);
  const reviewThread = paused.thread;
  check(reviewThread && new URL(page.url()).searchParams.get("thread") === reviewThread, "the thread id is in the URL",
    page.url());
  check(/^[0-9a-f-]{36}$/.test(paused.run), "useStream learnt the run id (Content-Location is exposed)", paused);
  await type("answer", "yes");
  await page.click("#resume");
  const done = await until("the final values are shown",
    (shown) => shown.values?.published === "draft about otters (yes)" && shown.loading === "false");
  check(done.interrupt === "" && done.error === "", "no interrupt nor error after the resume", done);

  // 2. reload with the thread id: the stored state
  await open("review", reviewThread);
  const stored = await until("the stored state after a reload",
    (shown) => shown.values?.published === "draft about otters (yes)" && shown.loading === "false");
  check(stored.values.verdict === "yes" && stored.thread === reviewThread, "the reloaded thread's values", stored);

  // 3. rejoin a running run after a reload: the run waits on a gate the test opens
  await open("gated");
  await type("topic", "rejoin");
  await type("gate", "first");
  await page.click("#submit");
  const started = await until("the gated run started", (shown) => shown.values?.phase === "started"
    && shown.loading === "true" && shown.run !== "");
  await page.reload({ waitUntil: "load" });
  const rejoined = await until("the running run is rejoined after the reload",
    (shown) => shown.loading === "true" && shown.values?.phase === "started" && shown.thread === started.thread);
  check(runStreams.some((url) => url.includes(`/threads/${started.thread}/runs/${started.run}/stream`)),
    "the reloaded page joined the run's stream", runStreams);
  const released = await fetch(`${pageOrigin}/release/first`, { method: "POST" });
  check(released.status === 204, "the gate opened", released.status);
  const finished = await until("the rejoined run's end is shown",
    (shown) => shown.values?.phase === "finished" && shown.loading === "false");
  check(finished.error === "", "the rejoined run ended without error", { rejoined, finished });
  check((await api(`/threads/${started.thread}/runs/${started.run}`)).status === "success", "the rejoined run succeeded",
    started);

  // 4. stop: the running run is cancelled
  await open("gated");
  await type("topic", "stop");
  await type("gate", "never");
  await page.click("#submit");
  const running = await until("the second gated run started", (shown) => shown.values?.phase === "started"
    && shown.loading === "true" && shown.run !== "");
  await page.click("#stop");
  await until("stopped", (shown) => shown.loading === "false");
  let status;
  for (let i = 0; i < 200 && status !== "interrupted"; i++) {
    status = (await api(`/threads/${running.thread}/runs/${running.run}`)).status;
    if (status !== "interrupted") await new Promise((resolve) => setTimeout(resolve, 50));
  }
  check(status === "interrupted", "stop cancelled the run", status);
  const thread = await api(`/threads/${running.thread}`);
  check(thread.status === "idle", "the stopped run's thread is idle", thread);

  check(!problems.some((problem) => /CORS|Access-Control|Failed to fetch/i.test(problem)), "no CORS error in the page",
    problems);
}

try {
  await scenario();
} catch (error) {
  if (!(error instanceof CheckFailed)) console.error(`FAIL ${error.stack ?? error}`);
  await finish(1);
}
console.log("all browser checks passed");
await finish(0);
