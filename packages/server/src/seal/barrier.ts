/**
 * The barrier: holds the root key while unsealed and nothing while sealed. Everything that needs key
 * material asks the barrier for the root key and gets `Sealed` otherwise. Listeners hear when the
 * barrier seals so caches of decrypted material can be zeroed.
 */
import { TESSERA_VERSION, TesseraError, type SealStatus } from "@tessera/protocol";
import { secretBytes, zero } from "../crypto/index.js";
import type { Repositories, Store } from "../store/index.js";
import type { InitOptions, Seal, SealRecord } from "./seal.js";

const SEAL_META = "seal";
export const ROOT_KEY_LENGTH = 32;

export class Barrier {
  private record: SealRecord | undefined;
  private root: Buffer | undefined;
  private readonly sealListeners: (() => void)[] = [];
  private readonly unsealListeners: (() => void)[] = [];
  private readonly unsealChecks: ((rootKey: Buffer) => Promise<void>)[] = [];

  constructor(
    private readonly store: Pick<Store, "meta" | "transaction">,
    private readonly seal: Seal,
  ) {}

  /** Reads the stored seal configuration; call once at start. */
  async load(): Promise<void> {
    this.record = await this.store.meta.get<SealRecord>(SEAL_META);
    if (this.record !== undefined && this.record.type !== this.seal.type) {
      throw new Error(`storage was initialised with the "${this.record.type}" seal but the server is configured with "${this.seal.type}"`);
    }
  }

  /**
   * Re-reads the seal configuration when this node has none yet: another node sharing the database
   * initialised it. An initialised barrier never changes its record.
   */
  async refresh(): Promise<void> {
    if (this.record === undefined) await this.load();
  }

  get initialized(): boolean {
    return this.record !== undefined;
  }

  get sealed(): boolean {
    return this.root === undefined;
  }

  onSeal(listener: () => void): void {
    this.sealListeners.push(listener);
  }

  onUnseal(listener: () => void): void {
    this.unsealListeners.push(listener);
  }

  /**
   * A check that runs with the reconstructed root key before the barrier opens: if it throws, the
   * key is zeroed, the barrier stays sealed and the unseal fails with that error.
   */
  addUnsealCheck(check: (rootKey: Buffer) => Promise<void>): void {
    this.unsealChecks.push(check);
  }

  /** Progress is the seal's own count of held shares, so every caller sees shares still pending. */
  status(): SealStatus {
    const d = this.record === undefined ? { threshold: 0, shares: 0 } : this.seal.describe(this.record);
    return {
      initialized: this.initialized,
      sealed: this.sealed,
      sealType: this.record?.type ?? null,
      threshold: d.threshold,
      shares: d.shares,
      progress: this.sealed ? this.seal.pending() : 0,
      version: TESSERA_VERSION,
    };
  }

  /**
   * Initialises storage: a fresh root key protected by the seal, plus whatever `alsoWrite` stores
   * (the root token) in the same transaction. Leaves the barrier sealed. Returns the seal's secrets.
   */
  async initialize(options: InitOptions, alsoWrite: (tx: Repositories) => Promise<void>): Promise<string[]> {
    const rootKey = secretBytes(ROOT_KEY_LENGTH);
    try {
      const { record, secrets } = await this.seal.protect(rootKey, options);
      await this.store.transaction(async (tx) => {
        if ((await tx.meta.get(SEAL_META)) !== undefined) throw new TesseraError("InvalidState", "Tessera is already initialised");
        await tx.meta.put(SEAL_META, record);
        await alsoWrite(tx);
      });
      this.record = record;
      return secrets;
    } finally {
      zero(rootKey);
    }
  }

  /** Adds one unseal input; unseals once the seal has enough. */
  async unseal(input: string | undefined): Promise<SealStatus> {
    if (this.record === undefined) throw new TesseraError("NotInitialized");
    if (!this.sealed) return this.status();
    const result = await this.seal.submit(this.record, input);
    if (result.rootKey !== undefined) {
      try {
        for (const check of this.unsealChecks) await check(result.rootKey);
      } catch (err) {
        zero(result.rootKey);
        this.seal.reset();
        throw err;
      }
      if (!this.sealed) {
        // Another unseal finished while the checks ran.
        zero(result.rootKey);
        return this.status();
      }
      this.root = result.rootKey;
      for (const l of this.unsealListeners) l();
    }
    return this.status();
  }

  resetUnseal(): SealStatus {
    this.seal.reset();
    return this.status();
  }

  /** Forgets the root key (zeroed) and tells listeners to drop decrypted material. */
  sealNow(): void {
    this.seal.reset();
    if (this.root === undefined) return;
    zero(this.root);
    this.root = undefined;
    for (const l of this.sealListeners) l();
  }

  /** The root key, or `Sealed` / `NotInitialized`. Callers must not keep or zero it. */
  rootKey(): Buffer {
    if (this.root !== undefined) return this.root;
    throw new TesseraError(this.initialized ? "Sealed" : "NotInitialized");
  }

  /** Throws unless unsealed. */
  assertUnsealed(): void {
    this.rootKey();
  }
}
