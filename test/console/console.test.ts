/**
 * The web console in a real browser (Debian's chromium driven by playwright-core) against a real dev
 * server process: one sequential scenario through every main screen, as an operator and as a user
 * whose policy forbids rotation. Each main screen is checked with axe-core (no serious or critical
 * violations) and the run fails on any console error the page logs (CSP violations, exceptions),
 * except the browser's note about an API request the server refused, which the page shows itself.
 * Screenshots of the main screens are written to docs/console/ (linked from docs/console.md).
 */
import "reflect-metadata";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { REPO, startServer, type ServerProcess } from "../helpers/server-process.js";
import { keyAndCsr } from "../helpers/mtls.js";

const ROOT = "console-root-token";
const CHROMIUM = "/usr/bin/chromium";
// Every run saves the screenshots under test-results/ (ignored by git); with TESSERA_UPDATE_SCREENSHOTS=1
// they go to docs/console/, where docs/console.md shows the committed ones.
const SHOTS = process.env["TESSERA_UPDATE_SCREENSHOTS"] === "1" ? `${REPO}docs/console/` : `${REPO}test-results/console/`;
mkdirSync(SHOTS, { recursive: true });
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

let server: ServerProcess;
let browser: Browser;
const errors: string[] = [];

async function call<T = Record<string, unknown>>(method: string, path: string, body?: unknown, token = ROOT): Promise<{ status: number; body: T }> {
  const res = await fetch(server.url + path, { method, headers: { "x-tessera-token": token, ...(body !== undefined && { "content-type": "application/json" }) }, ...(body !== undefined && { body: JSON.stringify(body) }) });
  const text = await res.text();
  return { status: res.status, body: (text === "" ? {} : JSON.parse(text)) as T };
}

async function newPage(width = 1280): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const page = await context.newPage();
  page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() !== "error") return;
    // The browser notes every API answer with a 4xx status; the console shows those refusals itself.
    if (msg.text().startsWith("Failed to load resource: the server responded with a status of 4") && msg.location().url.includes("/v1/")) return;
    errors.push(`console: ${msg.text()} (${msg.location().url})`);
  });
  return { context, page };
}

/** Runs axe-core in the page (evaluated over the DevTools protocol, which the page's CSP does not govern). */
async function axe(page: Page, screen: string): Promise<string[]> {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    const r = await (globalThis as unknown as { axe: { run: (o: unknown) => Promise<{ violations: { id: string; impact: string; nodes: unknown[] }[] }> } }).axe.run({ resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, count: v.nodes.length }));
  });
  return result.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${screen}: ${v.id} (${v.impact}, ${v.count})`);
}

/** A link of the main navigation (the breadcrumbs repeat some names). */
const nav = (page: Page, name: string) => page.getByRole("navigation").getByRole("link", { name });

async function signIn(page: Page, token: string): Promise<void> {
  await page.getByLabel("Token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await nav(page, "Keys").waitFor();
}

beforeAll(async () => {
  server = await startServer(["--dev", "--listen", "127.0.0.1:{port}", "--dev-root-token", ROOT], { ready: "unsealed" });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"], headless: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe("the web console", () => {
  it("serves /ui with a strict Content-Security-Policy, compressed, the page revalidated and hashed assets cached for good", async () => {
    const page = await fetch(`${server.url}/ui`, { headers: { "accept-encoding": "br" } });
    const html = await page.text();
    const csp = page.headers.get("content-security-policy") ?? "";
    const script = /src="(\/ui\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    const asset = await fetch(`${server.url}${script}`, { headers: { "accept-encoding": "gzip" } });
    const deep = await fetch(`${server.url}/ui/keys/anything`);
    const missing = await fetch(`${server.url}/ui/assets/missing.js`);
    expect({
      status: page.status,
      type: page.headers.get("content-type"),
      cache: page.headers.get("cache-control"),
      encoding: page.headers.get("content-encoding"),
      scriptSrc: csp.includes("script-src 'self'") && !csp.includes("unsafe-inline") && !csp.includes("http"),
      frames: csp.includes("frame-ancestors 'none'"),
      inlineScript: /<script(?![^>]*\bsrc=)[^>]*>/.test(html),
      inlineStyle: /<style|style=/.test(html),
      assetCache: asset.headers.get("cache-control"),
      assetEncoding: asset.headers.get("content-encoding"),
      deep: [deep.status, deep.headers.get("content-type")],
      missing: missing.status,
    }).toEqual({
      status: 200,
      type: "text/html; charset=utf-8",
      cache: "no-cache",
      encoding: "br",
      scriptSrc: true,
      frames: true,
      inlineScript: false,
      inlineStyle: false,
      assetCache: "public, max-age=31536000, immutable",
      assetEncoding: "gzip",
      deep: [200, "text/html; charset=utf-8"],
      missing: 404,
    });
  });

  it("walks an operator through keys, policy, simulator, join tokens, audit and alerts, and a restricted user sees no rotate", async () => {
    // An operator token (not the root token: signing out revokes it), and a user role whose policy allows reading and
    // encrypting but not rotating, logged in with AppRole.
    const admin = await call<{ token: string }>("POST", "/v1/auth/tokens", { displayName: "console-admin", grants: [{ actions: ["*"], resources: ["*"] }] });
    expect((await call("PUT", "/v1/policies/key-reader", { statements: [{ sid: "read-and-encrypt", effect: "allow", actions: ["kms:ListKeys", "kms:DescribeKey", "kms:Encrypt"], resources: ["key/*"] }] })).status).toBe(200);
    expect((await call("PUT", "/v1/roles/reader", { policies: ["key-reader"], approle: {} })).status).toBe(200);
    const roleId = (await call<{ roleId: string }>("GET", "/v1/auth/approle/roles/reader/role-id")).body.roleId;
    const secretId = (await call<{ secretId: string }>("POST", "/v1/auth/approle/roles/reader/secret-id", {})).body.secretId;
    const reader = (await call<{ token: string }>("POST", "/v1/auth/approle/login", { roleId, secretId }, "")).body.token;
    // An enrolled VM, whose certificate the identity screen lists and revokes.
    const vmJoin = (await call<{ joinToken: string }>("POST", "/v1/auth/join-tokens", { role: "reader", vmId: "vm-1" })).body.joinToken;
    expect((await call("POST", "/v1/auth/join", { joinToken: vmJoin, csr: (await keyAndCsr()).csr, vmId: "vm-1" }, "")).status).toBe(200);
    const violations: string[] = [];

    const { context, page } = await newPage();
    const response = await page.goto(`${server.url}/ui`);
    expect(response?.headers()["content-security-policy"]).toContain("default-src 'none'");
    violations.push(...(await axe(page, "sign-in")));
    await page.screenshot({ path: `${SHOTS}sign-in.png` });
    await signIn(page, admin.body.token);

    // Create a key and encrypt with version 1.
    await nav(page, "Keys").click();
    await page.getByRole("button", { name: "Create key" }).click();
    await page.getByLabel("Key name").fill("orders");
    await page.getByRole("button", { name: "Create", exact: true }).click();
    await page.getByRole("heading", { name: "orders", level: 1 }).waitFor();
    const versionRows = page.locator("table.versions tbody tr");
    await expect.poll(() => versionRows.count()).toBe(1);
    await page.getByRole("button", { name: "Encrypt" }).click();
    const output = page.locator("#try-output");
    await expect.poll(async () => (await output.textContent())?.length ?? 0).toBeGreaterThan(20);
    const v1Ciphertext = (await output.textContent())!;

    // Rotate: the version table gains version 2, the primary.
    await page.getByRole("button", { name: "Rotate" }).click();
    await expect.poll(() => versionRows.count()).toBe(2);
    expect(await versionRows.nth(1).textContent()).toContain("Primary");

    // Decrypting the old ciphertext works (and raises the retiring-version alert); then retire version 1.
    await page.getByLabel("Input").fill(v1Ciphertext);
    await page.getByRole("button", { name: "Decrypt" }).click();
    await expect.poll(() => output.textContent()).toBe("hello, Tessera");
    // A retention policy, set from the key page, and what it will do next to version 1 — which was
    // used once since it stopped being primary (retention's "still in use" evidence).
    await page.getByLabel("Disable after (days)").fill("30");
    await page.getByLabel("Destroy after (days)").fill("7");
    await page.getByRole("button", { name: "Save retention" }).click();
    await page.getByText("Old versions are disabled 30 days after they stop being primary").waitFor();
    await expect.poll(() => versionRows.nth(0).textContent()).toContain("disabled ");
    expect(await versionRows.nth(0).locator("td").nth(5).textContent()).toBe("1");
    await page.getByLabel("Retire versions below").selectOption("2");
    await page.getByRole("button", { name: "Retire" }).click();
    await expect.poll(() => versionRows.nth(0).textContent()).toContain("Retired");
    // Aliases on the key page: two added (bare and AWS spelling), one removed; the API agrees.
    const aliasItems = page.locator("ul.aliases li");
    await page.getByLabel("New alias").fill("orders-live");
    await page.getByRole("button", { name: "Add alias" }).click();
    await page.getByText("Alias alias/orders-live added.").waitFor();
    await page.getByLabel("New alias").fill("alias/orders-old");
    await page.getByRole("button", { name: "Add alias" }).click();
    await expect.poll(() => aliasItems.count()).toBe(2);
    await page.getByRole("button", { name: "Remove alias/orders-old" }).click();
    await page.getByText("Alias alias/orders-old removed.").waitFor();
    await expect.poll(() => aliasItems.allTextContents()).toEqual([expect.stringContaining("alias/orders-live")]);
    expect((await call<{ aliases: { name: string }[] }>("GET", "/v1/aliases?keyId=orders")).body.aliases.map((a) => a.name)).toEqual(["alias/orders-live"]);
    violations.push(...(await axe(page, "key")));
    await page.screenshot({ path: `${SHOTS}key.png`, fullPage: true });

    // The restricted user is refused a rotation through the API: the denial the audit timeline shows later.
    const refusedRotation = await call<{ error: { requestId: string } }>("POST", "/v1/keys/orders/rotate", {}, reader);
    expect(refusedRotation.status).toBe(403);

    await nav(page, "Keys").click();
    await page.getByLabel("Search by name or id").fill("ord");
    await page.getByRole("link", { name: "orders" }).waitFor();
    violations.push(...(await axe(page, "keys")));
    await page.screenshot({ path: `${SHOTS}keys.png` });

    // A policy with an error: the message names the field; fixed, it saves.
    await nav(page, "Policies").click();
    await page.getByLabel("New policy name").fill("orders-encrypt");
    await page.getByRole("button", { name: "New policy" }).click();
    const editor = page.getByLabel("Policy document (JSON)");
    await editor.fill(JSON.stringify({ statements: [{ sid: "encrypt-orders", effect: "permit", actions: ["kms:Encrypt"], resources: ["key/orders"] }] }, null, 2));
    await page.getByRole("button", { name: "Save policy" }).click();
    const problem = page.locator("#policy-problem");
    await expect.poll(() => problem.textContent()).toContain("/statements/0/effect");
    violations.push(...(await axe(page, "policy editor")));
    await page.screenshot({ path: `${SHOTS}policy-editor.png` });
    await editor.fill(JSON.stringify({ statements: [{ sid: "encrypt-orders", effect: "allow", actions: ["kms:Encrypt"], resources: ["key/orders"] }] }, null, 2));
    await page.getByRole("button", { name: "Save policy" }).click();
    await page.getByText("Policy orders-encrypt saved.").waitFor();
    expect(await problem.count()).toBe(0);

    // The simulator: a denial, then an allow with its deciding statement highlighted.
    await nav(page, "Simulator").click();
    await page.getByLabel("Role").fill("reader");
    await page.getByLabel("Action").fill("kms:RotateKey");
    await page.getByLabel("Resource").fill("key/orders");
    await page.getByRole("button", { name: "Simulate" }).click();
    await page.getByRole("heading", { name: /Denied/ }).waitFor();
    await page.getByLabel("Action").fill("kms:Encrypt");
    await page.getByRole("button", { name: "Simulate" }).click();
    await page.getByRole("heading", { name: /Allowed/ }).waitFor();
    await expect.poll(() => page.locator(".statements li.deciding").textContent()).toContain("read-and-encrypt");
    violations.push(...(await axe(page, "simulator")));
    await page.screenshot({ path: `${SHOTS}simulator.png` });

    // A join token: created with a TTL, shown once, hidden after copying.
    await nav(page, "Identity").click();
    await page.getByRole("textbox", { name: "Role", exact: true }).fill("reader");
    await page.getByLabel("Lifetime (seconds)").fill("600");
    await page.getByRole("button", { name: "Create join token" }).click();
    const secret = page.getByLabel("Join token", { exact: true });
    await secret.waitFor();
    expect(((await secret.textContent()) ?? "").length).toBeGreaterThan(20);
    await context.grantPermissions(["clipboard-read", "clipboard-write"]);
    await page.getByRole("button", { name: "Copy and hide" }).click();
    await page.getByText("Copied to the clipboard and hidden.").waitFor();
    expect(await secret.count()).toBe(0);
    const vmRow = page.locator("section", { has: page.getByRole("heading", { name: "Enrolled VMs and certificates" }) }).locator("tbody tr").filter({ hasText: "vm-1" });
    expect(await vmRow.textContent()).toContain("active");
    await page.getByRole("button", { name: "Revoke vm-1" }).click();
    await expect.poll(() => vmRow.textContent()).toContain("revoked");
    violations.push(...(await axe(page, "identity")));
    await page.screenshot({ path: `${SHOTS}identity.png`, fullPage: true });

    // The audit timeline: the reader's refused rotation, its detail, and the trail verified in the browser.
    await nav(page, "Audit").click();
    await page.getByLabel("Action").fill("kms:RotateKey");
    await page.getByLabel("Outcome").selectOption("denied");
    await page.getByRole("button", { name: "Apply filters" }).click();
    const denied = page.locator("table.timeline tbody tr");
    await expect.poll(() => denied.count()).toBe(1);
    await denied.first().getByRole("button").click();
    await expect.poll(() => page.locator(".detail").textContent()).toContain("reader");
    // The same entry found by the request id its answer carried, with the other filters cleared.
    await page.getByLabel("Action").fill("");
    await page.getByLabel("Outcome").selectOption("");
    await page.getByLabel("Request id").fill(refusedRotation.body.error.requestId);
    await page.getByRole("button", { name: "Apply filters" }).click();
    await expect.poll(() => denied.allTextContents()).toEqual([expect.stringContaining("kms:RotateKey")]);
    await page.getByRole("button", { name: "Verify trail" }).click();
    await page.getByText(/Trail verified|Hash chain verified/).waitFor();
    violations.push(...(await axe(page, "audit")));
    await page.screenshot({ path: `${SHOTS}audit.png` });

    // Alerts: the retiring-version alert, its triggering entry, acknowledged.
    await nav(page, "Alerts").click();
    const alert = page.locator("ul.alerts > li").filter({ hasText: "retiring-version" });
    await alert.waitFor();
    await alert.getByText(/Triggering entries/).click();
    await expect.poll(() => alert.textContent()).toContain("kms:Decrypt");
    violations.push(...(await axe(page, "alerts")));
    await page.screenshot({ path: `${SHOTS}alerts.png` });
    await alert.getByRole("button", { name: "Acknowledge" }).click();
    await expect.poll(() => alert.count()).toBe(0);

    // The dashboard, at 1280 px and narrow.
    await nav(page, "Dashboard").click();
    await page.getByText("Requests per minute over the last hour, by outcome").waitFor();
    violations.push(...(await axe(page, "dashboard")));
    await page.screenshot({ path: `${SHOTS}dashboard.png` });
    await page.getByRole("button", { name: "Last day" }).click();
    await page.getByText("Requests per 15 minutes over the last day, by outcome").waitFor();

    // The language switch: the main screens in Simplified Chinese.
    await page.getByLabel("Language").selectOption("zh-CN");
    await nav(page, "密钥").waitFor();
    await page.getByRole("heading", { name: "概览", level: 1 }).waitFor();
    violations.push(...(await axe(page, "dashboard zh-CN")));
    await page.getByLabel("语言").selectOption("en");
    await nav(page, "Keys").waitFor();
    await page.setViewportSize({ width: 390, height: 844 });
    await nav(page, "Keys").click();
    await page.getByRole("link", { name: "orders" }).waitFor();
    expect(await page.evaluate<boolean>("document.documentElement.scrollWidth <= window.innerWidth + 1")).toBe(true);
    await page.screenshot({ path: `${SHOTS}keys-narrow.png` });
    await page.setViewportSize({ width: 1280, height: 900 });

    // Keyboard: a focused navigation link follows on Enter.
    await nav(page, "Audit").focus();
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Audit", level: 1 }).waitFor();

    // Sign out: the token is revoked on the server and the sign-in form is back.
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByText("You have signed out; the token was revoked.").waitFor();
    expect((await call("GET", "/v1/auth/tokens/self", undefined, admin.body.token)).status).toBe(401);
    await context.close();

    // The restricted user: no rotate button, and a clear refusal when rotation is asked for by URL.
    const restricted = await newPage();
    await restricted.page.goto(`${server.url}/ui/keys/orders`);
    await signIn(restricted.page, reader);
    await restricted.page.getByRole("heading", { name: "orders", level: 1 }).waitFor();
    await restricted.page.getByRole("button", { name: "Encrypt" }).waitFor();
    expect(await restricted.page.getByRole("heading", { name: "Aliases" }).count()).toBe(0);
    expect(await restricted.page.getByRole("button", { name: "Rotate" }).count()).toBe(0);
    await restricted.page.goto(`${server.url}/ui/keys/orders/rotate`);
    await signIn(restricted.page, reader);
    await expect.poll(() => restricted.page.getByRole("alert").first().textContent()).toContain("You may not do kms:RotateKey on key orders");
    expect(await restricted.page.getByRole("button", { name: "Rotate" }).count()).toBe(0);
    expect(await restricted.page.getByRole("button", { name: "Confirm" }).count()).toBe(0);
    violations.push(...(await axe(restricted.page, "forbidden action")));
    await restricted.page.screenshot({ path: `${SHOTS}forbidden.png` });
    await restricted.context.close();

    // A session that ends on the server (revoked elsewhere): the console drops it and says so.
    const doomed = (await call<{ token: string; accessor: string }>("POST", "/v1/auth/tokens", { displayName: "short-lived", grants: [{ actions: ["*"], resources: ["*"] }] })).body;
    const expiring = await newPage();
    await expiring.page.goto(`${server.url}/ui`);
    await signIn(expiring.page, doomed.token);
    // The home screen's own loads finish first: revoked while they ran, they would end the session before the click.
    await expiring.page.waitForLoadState("networkidle");
    expect((await call("POST", "/v1/auth/tokens/revoke", { accessor: doomed.accessor })).status).toBe(204);
    // The next request ends the session: the click's, or the dashboard's refresh (every 10 s) when it
    // comes first and the navigation is already gone (failed once in CI).
    await nav(expiring.page, "Keys").click({ timeout: 5000 }).catch(() => undefined);
    await expiring.page.getByText("Your session has ended (the token expired or was revoked). Sign in again to continue.").waitFor();
    await expiring.page.getByLabel("Token").waitFor();
    await expiring.context.close();

    // Sign in with a JWT: an issuer the server trusts (inline JWKS), a role bound to its subject; the console exchanges
    // the JWT for a token, and sign-out revokes that token.
    const idp = await generateKeyPair("ES256", { extractable: true });
    const jwk = { ...(await exportJWK(idp.publicKey)), kid: "console-idp", alg: "ES256", use: "sig" };
    expect((await call("PUT", "/v1/auth/jwt/issuers/console-idp", { issuer: "https://idp.console.test", jwks: { keys: [jwk] }, audiences: ["tessera"] })).status).toBe(200);
    expect((await call("PUT", "/v1/roles/jwt-reader", { policies: ["key-reader"], jwt: { issuer: "console-idp", boundClaims: { sub: "console-user" } } })).status).toBe(200);
    const jwt = await new SignJWT({ sub: "console-user" }).setProtectedHeader({ alg: "ES256", kid: "console-idp" }).setIssuer("https://idp.console.test").setAudience("tessera").setIssuedAt().setExpirationTime("10m").sign(idp.privateKey);
    const viaJwt = await newPage();
    await viaJwt.page.goto(`${server.url}/ui`);
    await viaJwt.page.getByLabel("Sign in with").selectOption("jwt");
    await viaJwt.page.getByLabel("Role").fill("jwt-reader");
    await viaJwt.page.getByLabel("JWT", { exact: true }).fill("not.a.jwt");
    await viaJwt.page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => viaJwt.page.getByRole("alert").first().textContent()).toContain("Unauthenticated");
    violations.push(...(await axe(viaJwt.page, "sign-in with a JWT")));
    await viaJwt.page.getByLabel("JWT", { exact: true }).fill(jwt);
    await viaJwt.page.getByRole("button", { name: "Sign in" }).click();
    await nav(viaJwt.page, "Keys").click();
    await viaJwt.page.getByRole("link", { name: "orders" }).waitFor();
    await viaJwt.page.getByRole("button", { name: "Sign out" }).click();
    await viaJwt.page.getByText("You have signed out; the token was revoked.").waitFor();
    await viaJwt.context.close();

    expect({ violations, errors }).toEqual({ violations: [], errors: [] });
  }, 120_000);
});
