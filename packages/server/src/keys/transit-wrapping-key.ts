/**
 * The Vault API's transit wrapping key: one long-lived RSA-4096 key pair per transit mount, to which
 * clients wrap material for `transit/keys/:name/import` (Vault's BYOK).
 *
 * Invariants:
 * - Made on first use, once (created in a transaction: two nodes racing keep the first); its private
 *   key is stored only sealed under the root key (AAD names the mount), re-sealed by root rotation
 *   like key material, and held unsealed in memory only while the node is unsealed.
 * - It only ever unwraps (RSA-OAEP), never signs or encrypts anything the caller reads back.
 */
import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from "node:crypto";
import { promisify } from "node:util";
import { zero } from "../crypto/index.js";
import { sealedMetaFields, type Barrier } from "../seal/index.js";
import type { MetaRepo, Store } from "../store/index.js";

const generate = promisify(generateKeyPair);

interface StoredWrappingKey {
  /** PEM SubjectPublicKeyInfo. */
  publicKey: string;
  /** PKCS#8 DER private key sealed under the root key, base64. */
  sealedKey: string;
  createdAt: number;
}

export class TransitWrappingKey {
  private loaded: { publicKey: string; privateKey: KeyObject } | undefined;
  private readonly metaName: string;
  private readonly aad: Buffer;

  constructor(
    private readonly store: Pick<Store, "meta" | "transaction">,
    private readonly barrier: Barrier,
    mount: string,
    private readonly now: () => number,
  ) {
    this.metaName = `vault-transit-wrapping-key:${mount}`;
    this.aad = Buffer.from(`tessera/transit-wrapping-key/v1|${mount}`, "utf8");
    barrier.onSeal(() => (this.loaded = undefined));
    barrier.registerSealedData(sealedMetaFields(`transit wrapping key (${mount})`, this.metaName, [{ field: "sealedKey", aad: this.aad }]));
  }

  /** The PEM public key, making the pair on first use. */
  async publicKey(): Promise<string> {
    return (await this.load()).publicKey;
  }

  /** The private key, making the pair on first use (an import then simply fails to unwrap). */
  async privateKey(): Promise<KeyObject> {
    return (await this.load()).privateKey;
  }

  private async load() {
    if (this.loaded !== undefined) return this.loaded;
    let stored = await this.store.meta.get<StoredWrappingKey>(this.metaName);
    if (stored === undefined) stored = await this.create();
    const pkcs8 = this.barrier.openSecret(Buffer.from(stored.sealedKey, "base64"), this.aad);
    try {
      this.loaded = { publicKey: stored.publicKey, privateKey: createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" }) };
      return this.loaded;
    } finally {
      zero(pkcs8);
    }
  }

  private async create(): Promise<StoredWrappingKey> {
    this.barrier.assertUnsealed();
    const pair = await generate("rsa", { modulusLength: 4096, publicExponent: 0x10001 });
    const pkcs8 = pair.privateKey.export({ type: "pkcs8", format: "der" });
    const candidate: StoredWrappingKey = {
      publicKey: createPublicKey(pair.privateKey).export({ type: "spki", format: "pem" }).toString(),
      sealedKey: this.barrier.sealSecret(pkcs8, this.aad).toString("base64"),
      createdAt: this.now(),
    };
    zero(pkcs8);
    return this.store.transaction(async (tx: { meta: MetaRepo }) => {
      const existing = await tx.meta.get<StoredWrappingKey>(this.metaName);
      if (existing !== undefined) return existing;
      await tx.meta.put(this.metaName, candidate);
      return candidate;
    });
  }
}
