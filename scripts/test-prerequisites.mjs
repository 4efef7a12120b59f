#!/usr/bin/env node
/**
 * `npm test` runs this first: the system tools the suite drives (README snippets use bash, curl and
 * jq; TLS tests make throwaway certificates with openssl; the PKCS#11 seal's tests use SoftHSM2, a
 * software HSM; the store contract and cluster tests start a real PostgreSQL server with Debian's
 * `initdb`/`pg_ctl`, run as the `postgres` user via `runuser`; the web console's browser tests drive
 * Debian's `chromium` through playwright-core, which downloads no browser; the agent's TPM tests use
 * swtpm, a software TPM 2.0, driven by tpm2-tools; the Vault API's client tests drive Debian's
 * `python3-hvac` with the system Python, /usr/bin/python3; the automation tests run Debian's `ansible` —
 * with its amazon.aws collection — and boto3, which amazon.aws needs) are installed from Debian's packages
 * when missing, so the README's test command works on a fresh machine. Nothing is installed when they are
 * all present; without root or apt-get it names what is missing and stops.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";

const TOOLS = Object.freeze({
  bash: "bash",
  curl: "curl",
  jq: "jq",
  openssl: "openssl",
  "softhsm2-util": "softhsm2",
  chromium: "chromium",
  swtpm: "swtpm",
  swtpm_setup: "swtpm-tools",
  tpm2_createprimary: "tpm2-tools",
  "ansible-playbook": "ansible",
});
/** The PKCS#11 module the HSM tests load (Debian's path). */
export const SOFTHSM2_MODULE = "/usr/lib/softhsm/libsofthsm2.so";

const present = (cmd) => spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
const missing = Object.entries(TOOLS).filter(([cmd]) => !present(cmd) || (cmd === "softhsm2-util" && !existsSync(SOFTHSM2_MODULE)));

/** Debian's server binaries live outside PATH, under /usr/lib/postgresql/<version>/bin (test/helpers/postgres.ts). */
const hasPostgres = () => existsSync("/usr/lib/postgresql") && readdirSync("/usr/lib/postgresql").some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`));
if (!hasPostgres()) missing.push(["initdb (PostgreSQL server)", "postgresql"]);
/** amazon.aws's modules import boto3 (Debian's ansible only recommends it, and we install without recommends). */
if (spawnSync("/usr/bin/python3", ["-c", "import boto3"], { stdio: "ignore" }).status !== 0) missing.push(["python3 boto3 (for amazon.aws)", "python3-boto3"]);
/** The Vault client the Vault API's tests drive (test/integration/vault-hvac.test.ts), for Debian's own Python. */
const hasHvac = () => spawnSync("/usr/bin/python3", ["-c", "import hvac"], { stdio: "ignore" }).status === 0;
if (!hasHvac()) missing.push(["python3 with hvac (/usr/bin/python3)", "python3-hvac"]);
if (missing.length > 0) {
  const packages = missing.map(([, pkg]) => pkg);
  const canInstall = process.getuid?.() === 0 && spawnSync("sh", ["-c", "command -v apt-get"], { stdio: "ignore" }).status === 0;
  if (!canInstall) {
    console.error(`npm test needs ${missing.map(([cmd]) => cmd).join(", ")} on PATH; install ${packages.join(" ")} (e.g. sudo apt-get install -y ${packages.join(" ")})`);
    process.exit(1);
  }
  console.error(`installing the test suite's system tools: ${packages.join(" ")}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
  execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...packages], { stdio: "inherit", env });
}
