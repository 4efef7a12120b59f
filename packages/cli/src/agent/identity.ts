/**
 * The VM's identity as the agent holds it: enrolment with a join token (the key pair is made here,
 * only a CSR leaves), certificate logins over mutual TLS for short-lived tokens, and certificate
 * renewal. The identity file holds only public things (certificate, CA, VM id, serial); the private
 * key is in the {@link KeyStore}; tokens stay in memory.
 */
import { X509Certificate } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { TesseraClient } from "@tessera/client/core";
import { isTesseraError, TesseraError } from "@tessera/protocol/core";
import type { LoginResponse } from "@tessera/protocol";
import type { AgentClock } from "./clock.js";
import { AgentConfigError, type AgentConfig } from "./config.js";
import { newKeyAndCsr } from "./csr.js";
import type { KeyStore } from "./key-store.js";
import type { AgentLog } from "./log.js";
import { IDENTITY_FILE, readJsonFile, writeAtomic } from "./state.js";

/** What `identity.json` holds. */
export interface StoredIdentity {
  vmId: string;
  role: string;
  serial: string;
  certificate: string;
  caCertificate: string;
  /** The certificate's notAfter (ISO). */
  expiresAt: string;
  /** Local clock when the certificate arrived: renewals are timed from here, so clock skew does not matter. */
  receivedAt: number;
  /** Where its private key is kept. */
  keyProtection: "file" | "tpm";
}

interface HeldToken {
  value: string;
  expiresAt: string | null;
  receivedAt: number;
  lifetimeMs: number | null;
}

/** The environment variable a join token may come in instead of `join_token_file`. */
export const JOIN_TOKEN_ENV = "TESSERA_JOIN_TOKEN";

/** Answers after which a join token is spent or worthless: the token file is deleted. */
const SPENDING_CODES = new Set(["Unauthenticated", "AccessDenied", "AlreadyExists", "InvalidInput", "NotFound"]);

export class AgentIdentity {
  readonly #config: AgentConfig;
  readonly #keys: KeyStore;
  readonly #clock: AgentClock;
  readonly #log: AgentLog;
  readonly #serverCa: Buffer | undefined;
  #identity: StoredIdentity | undefined;
  #keyPem: string | undefined;
  #token: HeldToken | undefined;

  constructor(config: AgentConfig, keys: KeyStore, clock: AgentClock, log: AgentLog, serverCa: Buffer | undefined) {
    this.#config = config;
    this.#keys = keys;
    this.#clock = clock;
    this.#log = log;
    this.#serverCa = serverCa;
  }

  get current(): Readonly<StoredIdentity> | undefined {
    return this.#identity;
  }

  get keyProtection(): "file" | "tpm" {
    return this.#keys.protection;
  }

  /** The token requests are forwarded with, if the agent holds one. Never logged. */
  get token(): string | undefined {
    return this.#token?.value;
  }

  get tokenExpiresAt(): string | null {
    return this.#token?.expiresAt ?? null;
  }

  /** Reads the stored identity and its key (unsealing it with the TPM); false when not enrolled. */
  async load(): Promise<boolean> {
    const stored = await readJsonFile<StoredIdentity>(join(this.#config.stateDir, IDENTITY_FILE));
    if (stored === undefined) return false;
    if (stored.keyProtection !== this.#keys.protection) {
      throw new AgentConfigError(
        `the stored identity's key is kept ${stored.keyProtection === "tpm" ? "sealed to the TPM" : "in a file"}, but the configuration says ${this.#keys.protection === "tpm" ? "tpm" : "no tpm"}: ` +
          "restore the setting, or enrol again with `tessera agent run --re-enrol` and a new join token",
      );
    }
    this.#keyPem = await this.#keys.load(stored.serial);
    this.#identity = stored;
    await this.#keys.prune(stored.serial);
    return true;
  }

  /** Forgets the identity (for `--re-enrol`): the next step enrols again with a join token. */
  async forget(): Promise<void> {
    this.#identity = undefined;
    this.#keyPem = undefined;
    this.#token = undefined;
    await rm(join(this.#config.stateDir, IDENTITY_FILE), { force: true });
    await this.#keys.prune(undefined);
  }

  async #joinToken(): Promise<{ value: string; file: string | undefined }> {
    const file = this.#config.joinTokenFile;
    if (file !== undefined) {
      try {
        const value = (await readFile(file, "utf8")).trim();
        if (value !== "") return { value, file };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      }
    }
    const env = process.env[JOIN_TOKEN_ENV];
    if (env !== undefined && env !== "") return { value: env, file: undefined };
    throw new TesseraError(
      "Unauthenticated",
      `not enrolled and no join token: put one in ${file ?? "join_token_file"} or ${JOIN_TOKEN_ENV} (tessera join-token create --role ROLE)`,
    );
  }

  /** Exchanges a join token and a CSR for an instance certificate (and a first token). */
  async enrol(): Promise<void> {
    const join_ = await this.#joinToken();
    const { privateKey, csrPem } = await newKeyAndCsr(this.#config.vmId ?? "tessera-agent");
    const client = new TesseraClient({ address: this.#config.server.address, ...(this.#serverCa && { tls: { ca: this.#serverCa } }) });
    let r;
    try {
      r = await client.join({ joinToken: join_.value, csr: csrPem, ...(this.#config.vmId !== undefined && { vmId: this.#config.vmId }) });
    } catch (err) {
      if (join_.file !== undefined && isTesseraError(err) && SPENDING_CODES.has(err.code)) {
        await rm(join_.file, { force: true });
        this.#log("warn", "join token refused; deleted it", { code: err.code, file: join_.file });
      }
      throw err;
    }
    // The token is spent: it must not be found again (a copy of this disk must not hold it).
    if (join_.file !== undefined) await rm(join_.file, { force: true });
    await this.#adopt(r, privateKey);
    this.#hold(r.token);
    this.#log("info", "enrolled", { vmId: r.vmId, role: r.role, serial: r.serial, expiresAt: r.expiresAt, keyProtection: this.#keys.protection });
  }

  async #adopt(r: { certificate: string; caCertificate: string; serial: string; vmId: string; role: string; expiresAt: string }, privateKey: import("node:crypto").KeyObject): Promise<void> {
    // Key first, then the identity file that names it (key-store.ts): a crash leaves the old pair usable.
    await this.#keys.save(r.serial, privateKey);
    const identity: StoredIdentity = {
      vmId: r.vmId,
      role: r.role,
      serial: r.serial,
      certificate: r.certificate,
      caCertificate: r.caCertificate,
      expiresAt: r.expiresAt,
      receivedAt: this.#clock.now(),
      keyProtection: this.#keys.protection,
    };
    await writeAtomic(join(this.#config.stateDir, IDENTITY_FILE), `${JSON.stringify(identity, null, 2)}\n`, 0o600);
    this.#keyPem = privateKey.export({ format: "pem", type: "pkcs8" }) as string;
    this.#identity = identity;
    await this.#keys.prune(r.serial);
  }

  #hold(login: LoginResponse): void {
    const lifetimeMs = login.expiresAt === null ? null : Date.parse(login.expiresAt) - Date.parse(login.createdAt);
    this.#token = { value: login.token, expiresAt: login.expiresAt, receivedAt: this.#clock.now(), lifetimeMs };
  }

  #mtlsClient(): TesseraClient {
    if (this.#identity === undefined || this.#keyPem === undefined) throw new TesseraError("Unauthenticated", "not enrolled");
    return new TesseraClient({
      address: this.#config.server.address,
      tls: { cert: this.#identity.certificate, key: this.#keyPem, ...(this.#serverCa && { ca: this.#serverCa }) },
    });
  }

  /** A fresh token from a certificate login. */
  async login(): Promise<void> {
    this.#hold(await this.#mtlsClient().certLogin());
    this.#log("info", "logged in with the instance certificate", { serial: this.#identity!.serial, tokenExpiresAt: this.#token!.expiresAt });
  }

  /** A new key pair and certificate for the same VM, over mutual TLS with the current one. */
  async renewCertificate(): Promise<void> {
    const old = this.#identity!;
    const { privateKey, csrPem } = await newKeyAndCsr(old.vmId);
    const r = await this.#mtlsClient().renewCertificate(csrPem);
    await this.#adopt(r, privateKey);
    this.#log("info", "renewed the instance certificate", { serial: r.serial, previousSerial: old.serial, expiresAt: r.expiresAt });
  }

  /** Drops the token (the server refused it); the renewal loop logs in again. */
  dropToken(): void {
    this.#token = undefined;
  }

  /** A client for data-plane calls with the current token (templates). */
  dataClient(): TesseraClient {
    if (this.#token === undefined) throw new TesseraError("Unavailable", "the agent holds no token yet (enrolling, or the server is unreachable)");
    return new TesseraClient({ address: this.#config.server.address, token: this.#token.value, ...(this.#serverCa && { tls: { ca: this.#serverCa } }) });
  }

  /** The certificate's lifetime (notAfter − notBefore) in ms. */
  certificateLifetimeMs(): number | undefined {
    if (this.#identity === undefined) return undefined;
    const cert = new X509Certificate(this.#identity.certificate);
    return Date.parse(cert.validTo) - Date.parse(cert.validFrom);
  }

  get tokenTiming(): { receivedAt: number; lifetimeMs: number | null } | undefined {
    return this.#token === undefined ? undefined : { receivedAt: this.#token.receivedAt, lifetimeMs: this.#token.lifetimeMs };
  }
}
