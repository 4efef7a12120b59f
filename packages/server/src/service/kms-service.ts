/**
 * The one door. Every adapter (native API, AWS API, CLI through the API) calls these methods and
 * nothing else; each passes: sealed check → authenticate → resolve → authorize → execute → audit.
 * No adapter reaches keys/ or store/ except through here, so no new API can skip authorisation or
 * audit (test/boundaries.test.ts keeps that true).
 */
import {
  MAX_PLAINTEXT_BYTES,
  TesseraError,
  checkContext,
  isTesseraError,
  type Action,
  type BatchDecryptRequest,
  type BatchDecryptResponse,
  type BatchEncryptRequest,
  type BatchEncryptResponse,
  type CreateKeyRequest,
  type CreateTokenRequest,
  type CreateTokenResponse,
  type DecryptRequest,
  type DecryptResponse,
  type DeriveRequest,
  type DeriveResponse,
  type EncryptRequest,
  type EncryptionAlgorithm,
  type EncryptResponse,
  type GenerateDataKeyRequest,
  type GenerateDataKeyResponse,
  type GenerateDataKeyWithoutPlaintextResponse,
  type GenerateRandomResponse,
  type InitRequest,
  type InitResponse,
  type KeyMetadata,
  type KeyVersionInfo,
  type ListKeysResponse,
  type ListVersionsResponse,
  type ReEncryptRequest,
  type ReEncryptResponse,
  type SealStatus,
  type TokenInfo,
  type TokenSelector,
  type UnsealRequest,
  type UpdateKeyRequest,
} from "@tessera/protocol";
import { secretBytes, zero } from "../crypto/index.js";
import { iso, type Clock } from "../clock.js";
import { resources, type PolicyService, type Resource } from "../policy/index.js";
import type { TokenService } from "../identity/token-service.js";
import { Door, type CallContext, type Scope } from "./door.js";
import type { NodePresence } from "./node-presence.js";
import { b64, b64AndZero, decodeBytes } from "./bytes.js";
import type { Refusal } from "./refusal-log.js";
import type { Authenticator } from "../identity/authenticator.js";
import type { Principal } from "../principal/index.js";

export type { CallContext };
import { toMetadata, type CancelRestore, type KeyHandle, type KeyService } from "../keys/index.js";
import type { Barrier } from "../seal/index.js";
import { validateShamirParameters } from "../seal/index.js";

export interface KmsServiceDeps {
  barrier: Barrier;
  authenticator: Pick<Authenticator, "authenticate">;
  keys: KeyService;
  tokens: TokenService;
  policy: PolicyService;
  door: Door;
  clock: Clock;
  /** This node and the others sharing its database (absent: a node that does not register itself). */
  presence?: Pick<NodePresence, "id" | "list">;
  /** With an auto seal (the HSM), init ends by unsealing with it. */
  autoUnseal?: { attempt(): Promise<boolean> };
  /**
   * The other worker processes of this server (workers/): unseal shares, resets and seals submitted
   * here reach each of them before the answer. Absent in a single process.
   */
  peers?: SealPeers;
}

/** What a worker tells its siblings about the seal; each resolves once every live sibling took it in. */
export interface SealPeers {
  /** `migrate`: a share for a seal migration (`unseal --migrate`). */
  unsealShare(share: string, migrate?: boolean): Promise<void>;
  unsealReset(): Promise<void>;
  sealed(): Promise<void>;
  /**
   * Rekeyed here: the others read the new record and take its escrow's MAC key (a copy; the caller
   * zeroes its own). `unsealShares` (a quorum of the new shares; Shamir seal only) replace the unseal
   * shares kept for a worker that restarts, which no longer open the record.
   */
  rekeyed(macKey: Buffer, unsealShares?: string[]): Promise<void>;
}

export class KmsService {
  constructor(private readonly d: KmsServiceDeps) {}

  private get door(): Door {
    return this.d.door;
  }

  /** Audits a request the adapter refused before calling any operation (bad JSON, schema, no route …). */
  rejected(ctx: CallContext, err: unknown, refusal?: Refusal): Promise<void> {
    return this.door.rejected(ctx, err, refusal);
  }

  /**
   * Verifies a request's credentials before the adapter looks at its body (the AWS API: an unsigned
   * caller learns nothing about what a body should be). The operation's door reuses the verdict.
   * Sealed first, as in the door.
   */
  async authenticate(ctx: CallContext): Promise<Principal> {
    this.d.barrier.assertUnsealed();
    return this.d.authenticator.authenticate(ctx);
  }

  // ── system ───────────────────────────────────────────────────────────────────────────────────

  sealStatus(): SealStatus {
    return this.d.barrier.status();
  }

  /**
   * The seal status with every node the database knows. Open like the seal status: node ids, states,
   * versions and heartbeat times only (no addresses). A database that cannot answer leaves the list out.
   */
  async clusterStatus(): Promise<SealStatus> {
    const status = this.d.barrier.status();
    const presence = this.d.presence;
    if (presence === undefined) return status;
    const nodes = await presence.list().catch(() => undefined);
    return {
      ...status,
      node: presence.id,
      ...(nodes !== undefined && { nodes: nodes.map((n) => ({ id: n.id, state: n.self ? (status.initialized ? (status.sealed ? "sealed" : "unsealed") : "uninitialized") : n.state, version: n.version, lastSeen: n.lastSeen, live: n.live || n.self })) }),
    };
  }

  health(): { initialized: boolean; sealed: boolean; serverTime: string } {
    return { initialized: this.d.barrier.initialized, sealed: this.d.barrier.sealed, serverTime: iso(this.d.clock.now()) };
  }

  /** First start: creates the root key, the seal record and the root token. Open (no token). */
  async init(ctx: CallContext, req: InitRequest, rootTokenSecret?: string): Promise<InitResponse> {
    return this.door.open(
      ctx,
      "sys:Init",
      async (o) => {
        validateShamirParameters(req.shares, req.threshold);
        // An initialised server refuses before anything is announced: repeated attempts are refusals.
        if (this.d.barrier.initialized) throw new TesseraError("InvalidState", "Tessera is already initialised");
        await o.beforeChange();
        let rootToken = "";
        const shares = await this.d.barrier.initialize(req, async (tx) => {
          rootToken = await this.d.tokens.createRoot(tx, rootTokenSecret);
          await this.d.policy.createBuiltins(tx);
        });
        if (this.d.barrier.sealProvider.auto) await this.d.autoUnseal?.attempt();
        return { shares, rootToken, threshold: req.threshold, sealType: this.d.barrier.sealProvider.type, sealed: this.d.barrier.sealed };
      },
      { answerOnceChanged: true, credentialFirst: true },
    );
  }

  /** Adds an unseal share (or resets progress). Open, like Vault: shares are the credential. */
  async unseal(ctx: CallContext, req: UnsealRequest): Promise<SealStatus> {
    if (req.migrate === true) {
      return this.door.open(
        ctx,
        "sys:MigrateSeal",
        async () => {
          const peers = this.d.peers;
          if (req.reset === true) {
            const status = this.d.barrier.resetUnseal();
            await peers?.unsealReset();
            return status;
          }
          if (req.share === undefined) throw new TesseraError("InvalidInput", "migrate needs a share", { field: "/share" });
          if (peers === undefined || !this.d.barrier.sealed) return this.d.barrier.unsealMigrating(req.share);
          // As unseal shares: every worker collects the same shares and, at the threshold, migrates —
          // the first compare-and-set of the record wins; the others open the record it stored.
          try {
            return await this.d.barrier.unsealMigrating(req.share);
          } finally {
            await peers.unsealShare(req.share, true);
          }
        },
        { rateLimited: true },
      );
    }
    return this.door.open(
      ctx,
      "sys:Unseal",
      async () => {
        const peers = this.d.peers;
        if (req.reset === true) {
          const status = this.d.barrier.resetUnseal();
          await peers?.unsealReset();
          return status;
        }
        if (peers === undefined || req.share === undefined || !this.d.barrier.sealed) return this.d.barrier.unseal(req.share);
        // Every worker collects the same shares (in whatever order they arrive), so each reaches the
        // threshold — or resets on a wrong share — as this one does; relayed even when this one
        // refused the share, so their progress stays the same as this one's.
        try {
          return await this.d.barrier.unseal(req.share);
        } finally {
          await peers.unsealShare(req.share);
        }
      },
      { rateLimited: true },
    );
  }

  async seal(ctx: CallContext): Promise<SealStatus> {
    return this.door.run(
      ctx,
      "sys:Seal",
      async (s) => {
        await s.authorize(resources.sys);
        await this.d.keys.usage.flush().catch(() => undefined);
        this.d.barrier.sealNow();
        await this.d.peers?.sealed();
        return this.d.barrier.status();
      },
      { whileSealed: true },
    );
  }

  // ── key administration ───────────────────────────────────────────────────────────────────────

  createKey(ctx: CallContext, req: CreateKeyRequest): Promise<KeyMetadata> {
    return this.door.run(ctx, "kms:CreateKey", async (s) => {
      await s.authorize(resources.newKey(req.name));
      const meta = await this.d.keys.create(req);
      s.note(meta.keyId, meta.primaryVersion);
      return meta;
    });
  }

  listKeys(ctx: CallContext, limit: number, marker: string | undefined): Promise<ListKeysResponse> {
    return this.door.run(ctx, "kms:ListKeys", async (s) => {
      await s.authorize(resources.every("key"));
      const { rows, nextMarker } = await this.d.keys.list(limit, marker);
      const visible = [];
      for (const r of rows) if (await this.d.policy.allows(s.principal, "kms:DescribeKey", resources.key(r.id, r.name), ctx.source)) visible.push(r);
      return { keys: visible.map(toMetadata), nextMarker };
    });
  }

  describeKey(ctx: CallContext, ref: string): Promise<KeyMetadata> {
    return this.door.run(ctx, "kms:DescribeKey", async (s) => {
      const handle = await s.resolveKey(ref);
      await s.authorize(handle);
      return toMetadata(handle.row);
    });
  }

  listVersions(ctx: CallContext, ref: string): Promise<ListVersionsResponse> {
    return this.door.run(ctx, "kms:DescribeKey", async (s) => {
      await s.authorize(await s.resolveKey(ref));
      return this.d.keys.listVersions(ref);
    });
  }

  updateKey(ctx: CallContext, ref: string, req: UpdateKeyRequest): Promise<KeyMetadata> {
    return this.adminWrite(ctx, "kms:UpdateKey", ref, (id) => this.d.keys.update(id, req));
  }

  rotateKey(ctx: CallContext, ref: string): Promise<KeyMetadata> {
    return this.adminWrite(ctx, "kms:RotateKey", ref, (id) => this.d.keys.rotate(id));
  }

  enableKey(ctx: CallContext, ref: string): Promise<KeyMetadata> {
    return this.adminWrite(ctx, "kms:EnableKey", ref, (id) => this.d.keys.enable(id));
  }

  disableKey(ctx: CallContext, ref: string): Promise<KeyMetadata> {
    return this.adminWrite(ctx, "kms:DisableKey", ref, (id) => this.d.keys.disable(id));
  }

  scheduleKeyDeletion(ctx: CallContext, ref: string, pendingWindowDays: number | undefined): Promise<KeyMetadata> {
    return this.adminWrite(ctx, "kms:ScheduleKeyDeletion", ref, (id) => this.d.keys.scheduleDeletion(id, pendingWindowDays));
  }

  /**
   * Cancels a pending deletion. The native API restores the state the key had before (`"prior"`);
   * the AWS API leaves it `Disabled`, as AWS KMS does.
   */
  cancelKeyDeletion(ctx: CallContext, ref: string, restore: CancelRestore = "prior"): Promise<KeyMetadata> {
    return this.adminWrite(ctx, "kms:CancelKeyDeletion", ref, (id) => this.d.keys.cancelDeletion(id, restore));
  }

  setMinDecryptionVersion(ctx: CallContext, ref: string, version: number): Promise<KeyMetadata> {
    return this.adminWrite(ctx, "kms:UpdateKey", ref, (id) => this.d.keys.setMinDecryptionVersion(id, version));
  }

  /** Vault's trim: every version below `minAvailableVersion` destroyed for good (keys/key-service.ts). */
  trimKeyVersions(ctx: CallContext, ref: string, minAvailableVersion: number): Promise<KeyMetadata> {
    return this.adminWrite(ctx, "kms:TrimKeyVersions", ref, (id) => this.d.keys.trimVersions(id, minAvailableVersion));
  }

  /** Vault's `min_encryption_version` (0 = no minimum): the lowest version Encrypt may be asked for. */
  setMinEncryptionVersion(ctx: CallContext, ref: string, version: number): Promise<KeyMetadata> {
    return this.adminWrite(ctx, "kms:UpdateKey", ref, (id) => this.d.keys.setMinEncryptionVersion(id, version));
  }

  setVersionState(ctx: CallContext, ref: string, version: number, state: "Enabled" | "Disabled"): Promise<KeyVersionInfo> {
    return this.door.run(ctx, state === "Enabled" ? "kms:EnableKeyVersion" : "kms:DisableKeyVersion", async (s) => {
      const handle = await s.resolveKey(ref);
      await s.authorize(handle);
      s.note(handle.row.id, version);
      return this.d.keys.setVersionState(handle.row.id, version, state);
    });
  }

  /** Resolves `ref` once and writes the key it resolved to: an alias moved meanwhile changes nothing. */
  private adminWrite(ctx: CallContext, action: Action, ref: string, write: (keyId: string) => Promise<KeyMetadata>): Promise<KeyMetadata> {
    return this.door.run(ctx, action, async (s) => {
      const handle = await s.resolveKey(ref);
      await s.authorize(handle);
      const meta = await write(handle.row.id);
      s.note(meta.keyId, meta.primaryVersion);
      return meta;
    });
  }

  // ── aliases ──────────────────────────────────────────────────────────────────────────────────

  // Alias writes authorise the alias first, so a caller without rights on it learns nothing about
  // whether it exists; then each key involved, resolved once: the write names the key ids that were
  // authorised and fails with Conflict if the alias moved meanwhile.

  createAlias(ctx: CallContext, name: string, keyRef: string): Promise<void> {
    return this.door.run(ctx, "kms:CreateAlias", async (s) => {
      await s.authorize(resources.alias(name));
      const handle = await s.resolveKey(keyRef);
      await s.authorize(handle);
      await this.d.keys.createAlias(name, handle.row.id);
    });
  }

  updateAlias(ctx: CallContext, name: string, keyRef: string): Promise<void> {
    return this.door.run(ctx, "kms:UpdateAlias", async (s) => {
      await s.authorize(resources.alias(name));
      const current = await this.d.keys.aliasTarget(name);
      await s.authorize(await this.aliasedKey(current));
      const handle = await s.resolveKey(keyRef);
      await s.authorize(handle);
      await this.d.keys.updateAlias(name, handle.row.id, current);
    });
  }

  deleteAlias(ctx: CallContext, name: string): Promise<void> {
    return this.door.run(ctx, "kms:DeleteAlias", async (s) => {
      await s.authorize(resources.alias(name));
      const current = await this.d.keys.aliasTarget(name);
      await s.authorize(await this.aliasedKey(current));
      await this.d.keys.deleteAlias(name, current);
    });
  }

  /**
   * The native API's PUT: creates alias `name` (kms:CreateAlias) or, when it already exists, points
   * it at `keyRef` (kms:UpdateAlias), each authorised as its own action. Which one applies is read
   * before the door; if the alias appears or vanishes in between, the action fails with
   * AlreadyExists or NotFound and the caller may simply repeat the request.
   */
  async setAlias(ctx: CallContext, name: string, keyRef: string): Promise<{ created: boolean }> {
    const exists = await this.d.keys.aliasTarget(name).then(
      () => true,
      (err: unknown) => {
        if (isTesseraError(err) && err.code === "NotFound") return false;
        throw err;
      },
    );
    if (exists) await this.updateAlias(ctx, name, keyRef);
    else await this.createAlias(ctx, name, keyRef);
    return { created: !exists };
  }

  /** The key an alias points at, by id and name (by id alone if the key is gone). */
  private async aliasedKey(keyId: string): Promise<KeyHandle | Resource> {
    try {
      return await this.d.keys.resolve(keyId);
    } catch (err) {
      if (isTesseraError(err) && err.code === "NotFound") return resources.keyId(keyId);
      throw err;
    }
  }

  listAliases(ctx: CallContext, keyRef: string | undefined): Promise<{ name: string; keyId: string; createdAt: string; updatedAt: string }[]> {
    return this.door.run(ctx, "kms:ListAliases", async (s) => {
      let keyId: string | undefined;
      if (keyRef !== undefined) {
        const handle = await s.resolveKey(keyRef);
        await s.authorize(handle);
        keyId = handle.row.id;
      } else await s.authorize(resources.every("alias"));
      return (await this.d.keys.listAliases(keyId)).map((a) => ({ name: a.name, keyId: a.keyId, createdAt: iso(a.createdAt), updatedAt: iso(a.updatedAt) }));
    });
  }

  // ── cryptography ─────────────────────────────────────────────────────────────────────────────

  encrypt(ctx: CallContext, ref: string, req: EncryptRequest): Promise<EncryptResponse> {
    return this.door.run(ctx, "kms:Encrypt", async (s) => {
      const handle = await s.resolveKey(ref);
      await s.authorize(handle, { context: req.context });
      const algorithm = req.encryptionAlgorithm ?? "SYMMETRIC_DEFAULT";
      if (algorithm !== "SYMMETRIC_DEFAULT") return this.encryptAsymmetric(s, handle, algorithm, req);
      return this.encryptWith(s, handle, req.plaintext, req.context, req.keyVersion);
    });
  }

  /** RSA-OAEP to the key's primary public key: the ciphertext is the raw OAEP output, with no context to bind. */
  private encryptAsymmetric(s: Scope, handle: KeyHandle, algorithm: EncryptionAlgorithm, req: EncryptRequest): EncryptResponse {
    noContext(req.context, "/context");
    if (req.keyVersion !== undefined) {
      throw new TesseraError("InvalidInput", "keyVersion is for symmetric encryption (asymmetric encryption uses the primary public key)", { field: "/keyVersion" });
    }
    const plaintext = decodeBytes(req.plaintext, "/plaintext", MAX_PLAINTEXT_BYTES);
    try {
      const out = this.d.keys.asymmetric.encrypt(handle, algorithm, plaintext);
      s.note(handle.row.id, out.keyVersion);
      return { keyId: handle.row.id, keyVersion: out.keyVersion, ciphertext: b64(out.ciphertext), encryptionAlgorithm: algorithm };
    } finally {
      zero(plaintext);
    }
  }

  private encryptWith(s: Scope, handle: KeyHandle, plaintextB64: string, context: EncryptRequest["context"], keyVersion: number | undefined): EncryptResponse {
    checkContext(context);
    const plaintext = decodeBytes(plaintextB64, "/plaintext", MAX_PLAINTEXT_BYTES);
    try {
      const out = this.d.keys.encrypt(handle, plaintext, context, keyVersion);
      s.note(out.keyId, out.keyVersion);
      return { keyId: out.keyId, keyVersion: out.keyVersion, ciphertext: b64(out.ciphertext) };
    } finally {
      zero(plaintext);
    }
  }

  decrypt(ctx: CallContext, req: DecryptRequest): Promise<DecryptResponse> {
    return this.door.run(ctx, "kms:Decrypt", async (s) => {
      const algorithm = req.encryptionAlgorithm ?? "SYMMETRIC_DEFAULT";
      if (algorithm !== "SYMMETRIC_DEFAULT") return this.decryptAsymmetric(s, algorithm, req);
      if (req.keyVersion !== undefined) {
        throw new TesseraError("InvalidInput", "keyVersion is for asymmetric decryption (a Tessera ciphertext names its version)", { field: "/keyVersion" });
      }
      const out = await this.decryptWith(s, req.ciphertext, req.context, req.keyId, "kms:Decrypt");
      return { keyId: out.keyId, keyVersion: out.keyVersion, plaintext: b64AndZero(out.plaintext) };
    });
  }

  /** RSA-OAEP: the key is the one named (a raw OAEP ciphertext names none), the version the one named or the primary. */
  private async decryptAsymmetric(s: Scope, algorithm: EncryptionAlgorithm, req: DecryptRequest): Promise<DecryptResponse> {
    if (req.keyId === undefined) throw new TesseraError("InvalidInput", `keyId is required to decrypt with ${algorithm}`, { field: "/keyId" });
    noContext(req.context, "/context");
    const handle = await s.resolveKey(req.keyId);
    await s.authorize(handle);
    const ciphertext = decodeBytes(req.ciphertext, "/ciphertext", MAX_RSA_CIPHERTEXT_BYTES);
    const out = this.d.keys.asymmetric.decrypt(handle, algorithm, ciphertext, req.keyVersion);
    s.note(handle.row.id, out.keyVersion);
    return { keyId: handle.row.id, keyVersion: out.keyVersion, plaintext: b64AndZero(out.plaintext), encryptionAlgorithm: algorithm };
  }

  /** Parses, resolves, authorises and opens a ciphertext. */
  private async decryptWith(s: Scope, ciphertextB64: string, context: DecryptRequest["context"], expectedKey: string | undefined, action: "kms:Decrypt") {
    const { parsed, handle } = await this.openCiphertext(s, ciphertextB64, context, expectedKey, action);
    const out = this.decryptNoting(s, handle, parsed, context);
    s.note(out.keyId, out.keyVersion);
    return out;
  }

  /** Parses a ciphertext, resolves its key and authorises the caller on it — no cryptography yet. */
  private async openCiphertext(s: Scope, ciphertextB64: string, context: DecryptRequest["context"], expectedKey: string | undefined, action: "kms:Decrypt" | "kms:ReEncryptFrom") {
    checkContext(context, action === "kms:ReEncryptFrom" ? "/sourceContext" : "/context");
    const bytes = Buffer.from(ciphertextB64, "base64");
    const { parsed, handle } = await this.d.keys.resolveCiphertext(bytes);
    // Authorise against the ciphertext's key before any cryptography; an unknown key is
    // authorised by its id so that callers without rights learn nothing about it.
    await s.authorize(handle ?? resources.keyId(parsed.keyId), { action, context });
    if (expectedKey !== undefined) {
      const expected = await s.resolveKey(expectedKey, action);
      if (handle === undefined || expected.row.id !== handle.row.id) {
        throw new TesseraError("IncorrectKey", "the ciphertext was not encrypted under the key named in the request");
      }
    }
    return { parsed, handle };
  }

  /**
   * Decrypts; when the ciphertext's version may not be used (disabled, retired, destroyed), the
   * refusal's audit record names that version, so retention sees who still needs it.
   */
  private decryptNoting(s: Scope, handle: KeyHandle | undefined, parsed: Parameters<KeyService["decrypt"]>[1], context: DecryptRequest["context"]) {
    try {
      return this.d.keys.decrypt(handle, parsed, context);
    } catch (err) {
      if (handle !== undefined && isTesseraError(err) && (err.code === "Disabled" || err.code === "Destroyed")) s.note(handle.row.id, parsed.keyVersion);
      throw err;
    }
  }

  generateDataKey(ctx: CallContext, ref: string, req: GenerateDataKeyRequest): Promise<GenerateDataKeyResponse> {
    return this.door.run(ctx, "kms:GenerateDataKey", async (s) => {
      const { out, dataKey } = await this.makeDataKey(s, ref, req);
      return { ...out, plaintext: b64AndZero(dataKey) };
    });
  }

  generateDataKeyWithoutPlaintext(ctx: CallContext, ref: string, req: GenerateDataKeyRequest): Promise<GenerateDataKeyWithoutPlaintextResponse> {
    return this.door.run(ctx, "kms:GenerateDataKeyWithoutPlaintext", async (s) => {
      const { out, dataKey } = await this.makeDataKey(s, ref, req);
      zero(dataKey);
      return out;
    });
  }

  private async makeDataKey(s: Scope, ref: string, req: GenerateDataKeyRequest) {
    if (req.keySpec !== undefined && req.numberOfBytes !== undefined) {
      throw new TesseraError("InvalidInput", "give keySpec or numberOfBytes, not both", { field: "/numberOfBytes" });
    }
    checkContext(req.context);
    const handle = await s.resolveKey(ref);
    await s.authorize(handle, { context: req.context });
    const length = req.numberOfBytes ?? (req.keySpec === "AES_128" ? 16 : 32);
    const dataKey = secretBytes(length);
    try {
      const enc = this.d.keys.encrypt(handle, dataKey, req.context, req.keyVersion);
      s.note(enc.keyId, enc.keyVersion);
      return { dataKey, out: { keyId: enc.keyId, keyVersion: enc.keyVersion, ciphertext: b64(enc.ciphertext) } };
    } catch (err) {
      zero(dataKey);
      throw err;
    }
  }

  reEncrypt(ctx: CallContext, req: ReEncryptRequest): Promise<ReEncryptResponse> {
    return this.door.run(ctx, "kms:ReEncrypt", async (s) => {
      // Both ends are authorised before anything is decrypted, each under its own action (AWS's
      // names): ReEncryptFrom on the source key, ReEncryptTo on the destination.
      const opened = await this.openCiphertext(s, req.ciphertext, req.sourceContext, req.sourceKeyId, "kms:ReEncryptFrom");
      checkContext(req.destinationContext, "/destinationContext");
      const destination = req.destinationKeyId === undefined ? opened.handle : await s.resolveKey(req.destinationKeyId, "kms:ReEncryptTo");
      if (destination === undefined) throw new TesseraError("InvalidCiphertext");
      await s.authorize(destination, { action: "kms:ReEncryptTo", context: req.destinationContext });
      const source = this.decryptNoting(s, opened.handle, opened.parsed, req.sourceContext);
      try {
        const out = this.d.keys.encrypt(destination, source.plaintext, req.destinationContext, req.destinationKeyVersion, "/destinationKeyVersion");
        s.note(out.keyId, out.keyVersion);
        return {
          sourceKeyId: source.keyId,
          sourceKeyVersion: source.keyVersion,
          keyId: out.keyId,
          keyVersion: out.keyVersion,
          ciphertext: b64(out.ciphertext),
        };
      } finally {
        zero(source.plaintext);
      }
    });
  }

  derive(ctx: CallContext, ref: string, req: DeriveRequest): Promise<DeriveResponse> {
    return this.door.run(ctx, "kms:Derive", async (s) => {
      checkContext(req.context);
      const handle = await s.resolveKey(ref);
      await s.authorize(handle, { context: req.context });
      const { keyVersion, key } = this.d.keys.derive(handle, req.context, req.length ?? 32, req.keyVersion);
      s.note(handle.row.id, keyVersion);
      return { keyId: handle.row.id, keyVersion, derivedKey: b64AndZero(key) };
    });
  }

  generateRandom(ctx: CallContext, numberOfBytes: number): Promise<GenerateRandomResponse> {
    return this.door.run(ctx, "kms:GenerateRandom", async (s) => {
      await s.authorize(resources.random);
      return { plaintext: b64AndZero(secretBytes(numberOfBytes)) };
    });
  }

  /** Each item passes the door on its own (authorised and audited); one failure does not fail the batch. */
  async batchEncrypt(ctx: CallContext, req: BatchEncryptRequest): Promise<BatchEncryptResponse> {
    const results: BatchEncryptResponse["results"] = [];
    for (const [i, item] of req.items.entries()) {
      const itemCtx = { ...ctx, requestId: `${ctx.requestId}/${i}` };
      results.push(
        await this.encrypt(itemCtx, item.keyId, { plaintext: item.plaintext, ...(item.context && { context: item.context }) }).catch(itemError),
      );
    }
    return { results };
  }

  async batchDecrypt(ctx: CallContext, req: BatchDecryptRequest): Promise<BatchDecryptResponse> {
    const results: BatchDecryptResponse["results"] = [];
    for (const [i, item] of req.items.entries()) {
      const itemCtx = { ...ctx, requestId: `${ctx.requestId}/${i}` };
      results.push(await this.decrypt(itemCtx, item).catch(itemError));
    }
    return { results };
  }

  // ── tokens ───────────────────────────────────────────────────────────────────────────────────

  createToken(ctx: CallContext, req: CreateTokenRequest): Promise<CreateTokenResponse> {
    return this.door.run(
      ctx,
      "auth:CreateToken",
      async (s) => {
        await s.authorize(resources.token);
        return this.d.tokens.create(s.principal, req, ctx.source);
      },
      { whileSealed: true },
    );
  }

  lookupSelf(ctx: CallContext): Promise<TokenInfo> {
    return this.door.run(
      ctx,
      "auth:LookupToken",
      async (s) => {
        await s.permitSelf();
        return this.d.tokens.lookup({ accessor: s.principal.id });
      },
      { whileSealed: true },
    );
  }

  lookupToken(ctx: CallContext, selector: TokenSelector): Promise<TokenInfo> {
    return this.door.run(
      ctx,
      "auth:LookupToken",
      async (s) => {
        await s.authorize(resources.token);
        return this.d.tokens.lookup(selector);
      },
      { whileSealed: true },
    );
  }

  revokeToken(ctx: CallContext, selector: TokenSelector): Promise<void> {
    return this.door.run(
      ctx,
      "auth:RevokeToken",
      async (s) => {
        const accessor = await this.d.tokens.accessorOf(selector).catch(async (err: unknown) => {
          // Without the right to revoke others, a caller learns nothing about tokens that are not its own.
          if (!(await this.d.policy.allows(s.principal, "auth:RevokeToken", resources.token, ctx.source))) throw new TesseraError("AccessDenied", "not allowed to auth:RevokeToken");
          throw err;
        });
        if (accessor === s.principal.id) await s.permitSelf();
        else await s.authorize(resources.token);
        await this.d.tokens.revoke({ accessor });
      },
      { whileSealed: true },
    );
  }
}

/** An RSA-4096 ciphertext is 512 bytes; nothing longer can decrypt. */
const MAX_RSA_CIPHERTEXT_BYTES = 1024;

/** Asymmetric encryption binds no encryption context (as AWS): one given is refused, not ignored. */
function noContext(context: Record<string, string> | undefined, field: string): void {
  if (context !== undefined && Object.keys(context).length > 0) {
    throw new TesseraError("InvalidInput", "an encryption context applies to symmetric encryption only", { field });
  }
}

function itemError(err: unknown): { error: { code: string; message: string } } {
  if (isTesseraError(err)) return { error: { code: err.code, message: err.message } };
  return { error: { code: "Internal", message: "Internal error." } };
}
