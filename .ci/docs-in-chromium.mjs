// /docs in headless Chromium, as a partner would use it: every operation is listed, and "Try it
// out" on validateToken and on createInvoice (with its example body) answers 200 from the sandbox
// that served the page, with no request leaving loopback.
// Usage: node .ci/docs-in-chromium.mjs BASE_URL CLIENT_TOKEN (run by .ci/browser)
// playwright-core lives in .ci/.tools (not a project dependency): PLAYWRIGHT names its entry.
const { chromium } = await import(process.env.PLAYWRIGHT ?? "playwright-core");

const [base, token] = process.argv.slice(2);
const operations = [
  "createClient", "validateToken", "renewToken", "createInvoice", "createInvoiceActions",
  "getCaseDetails", "getDistributionInformation", "getDistributionInformationV2", "getPayments",
  "getSettlements", "submitAccountingInvoice", "submitLedger", "getLedgerStatus",
  "submitAccountingPayments", "getAccountingPaymentStatus", "getFinvoiceCredentials",
];
const failures = [];
const check = (ok, message) => { if (!ok) failures.push(message); else console.log(`ok: ${message}`); };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage();
  const outside = [];
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.protocol.startsWith("http") && !["127.0.0.1", "localhost"].includes(url.hostname)) {
      outside.push(request.url());
    }
  });
  await page.goto(`${base}/docs`);
  await page.waitForSelector(".opblock", { timeout: 30000 });
  check((await page.title()) === "Confirma Finance Partner API · sandbox", `the page is titled for the product (${await page.title()})`);
  check((await page.$(".topbar")) === null, "no Swagger \"Explore\" bar");
  const ids = await page.$$eval(".opblock", (blocks) => blocks.map((b) => b.id));
  const missing = operations.filter((op) => !ids.some((id) => id.endsWith(`-${op}`)));
  check(missing.length === 0, `every Partner API operation is listed (${ids.length} blocks; missing: ${missing.join(", ") || "none"})`);
  const servers = await page.$$eval(".servers select option", (options) => options.map((o) => o.value));
  check(servers[0] === "/", `the first server is the sandbox itself (${servers.join(", ")})`);

  // Authorize as a partner would, then try two operations.
  await page.evaluate((t) => window.ui.preauthorizeApiKey("ApiKey", t), token);
  for (const op of ["validateToken", "createInvoice"]) {
    const block = page.locator(`.opblock[id$="-${op}"]`).first();
    await block.locator(".opblock-summary").first().click();
    // The page opens operations ready to try (tryItOutEnabled); press "Try it out" if not.
    const execute = block.locator("button.execute");
    await block.locator("button.try-out__btn").waitFor();
    if ((await execute.count()) === 0) await block.locator("button.try-out__btn").click();
    check(!(await block.locator(".operation-servers").isVisible()), `${op} has no server menu of its own`);
    await execute.click();
    const status = block.locator(".live-responses-table tr.response .response-col_status").first();
    await status.waitFor({ timeout: 30000 });
    const code = (await status.innerText()).trim();
    check(code === "200", `"Try it out" on ${op} answers ${code}`);
  }
  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT, fullPage: false });
  check(outside.length === 0, `no request left loopback (${outside.join(", ") || "none"})`);
} finally {
  await browser.close();
}
if (failures.length) {
  console.error(`FAILED:\n  ${failures.join("\n  ")}`);
  process.exit(1);
}
console.log("docs in Chromium: OK");
