/**
 * PKCS#11 seal: each root is encrypted inside an HSM by a non-extractable AES-256 key found by its
 * label, so a node unseals itself when it can reach the HSM. Recovery shares (share-escrow.ts) are
 * issued too, for disaster recovery and the quorum operations (rekey, generate-root).
 *
 * - Mechanisms: `aes_gcm` (CKM_AES_GCM through C_Encrypt/C_Decrypt, 96-bit IV from the HSM's RNG,
 *   128-bit tag, the binding below as AAD) and `aes_key_wrap_pad` (CKM_AES_KEY_WRAP_PAD through
 *   C_WrapKey/C_UnwrapKey of a short-lived session object holding root ‖ SHA-256(binding)). The
 *   binding names the root's id and the recovery escrow's public key and quorum, so a record whose
 *   roots were moved or whose escrow was swapped does not open.
 * - Several key labels may be configured: the first encrypts, all decrypt. A root found under an older
 *   label (or mechanism) is re-encrypted with the first when the node unseals.
 * - The recovery escrow's MAC key (share-escrow.ts) is kept HSM-encrypted too (`escrowMac`, same
 *   layout as a root, id `escrow-mac`), so an auto-unsealed node can authenticate the escrow it
 *   rewrites on rotation; the escrow's MAC is checked at every HSM unseal.
 * - Record: `{type: "pkcs11", version: 1, roots: [{id, keyLabel, mechanism, iv?, ct}], escrowMac, escrow}`.
 */
import { TesseraError } from "@tessera/protocol";
import { sha256, zero } from "../crypto/index.js";
import { HsmConnection, isSessionLost, type HsmOptions } from "./hsm-connection.js";
import { HsmError } from "./hsm-error.js";
import type { Handle, Pkcs11Instance, Pkcs11Library } from "./pkcs11-api.js";
import { loadPkcs11js } from "./pkcs11-api.js";
import type { RootKey } from "./root-ring.js";
import { ROOT_KEY_LENGTH } from "./root-ring.js";
import type { InitOptions, Opened, ProtectResult, Seal, SealRecord, UnsealProgress } from "./seal.js";
import { createEscrow, escrowKeysVouched, reescrow, zeroEscrowKeys, type EscrowKeys, type EscrowRecord } from "./share-escrow.js";
import { openWithShares } from "./shamir-seal.js";
import { ShareCollector } from "./shares.js";

export type Pkcs11Mechanism = "aes_gcm" | "aes_key_wrap_pad";

export interface Pkcs11SealOptions extends HsmOptions {
  /** The first encrypts; every one decrypts (HSM key rotation). */
  keyLabels: readonly string[];
  mechanism: Pkcs11Mechanism;
  /** Create the AES-256 key when no key has the first label (at init, or migrating onto the HSM). */
  generateKey: boolean;
}

export interface HsmRoot {
  id: string;
  keyLabel: string;
  mechanism: Pkcs11Mechanism;
  /** GCM IV, base64. */
  iv?: string;
  ct: string;
}

export interface Pkcs11Record extends SealRecord {
  type: "pkcs11";
  version: 1;
  roots: HsmRoot[];
  /** The recovery escrow's MAC key, encrypted by the HSM like a root (id `escrow-mac`). */
  escrowMac: HsmRoot;
  /** The roots escrowed to the recovery shares. */
  escrow: EscrowRecord;
}

const ESCROW_MAC_ID = "escrow-mac";

const GCM_IV_BYTES = 12;
const GCM_TAG_BYTES = 16;

function binding(rootId: string, escrow: EscrowRecord): Buffer {
  const e = sha256(`${escrow.publicKey}|${escrow.shares}|${escrow.threshold}`).toString("hex");
  return Buffer.from(`tessera/pkcs11-root/v1|id=${rootId}|escrow=${e}`, "utf8");
}

export class Pkcs11Seal implements Seal {
  readonly type = "pkcs11" as const;
  readonly auto = true;
  private readonly collector = new ShareCollector();
  private readonly hsm: HsmConnection;

  private constructor(
    private readonly k: Pkcs11Library,
    private readonly o: Pkcs11SealOptions,
  ) {
    if (o.keyLabels.length === 0) throw new Error("the pkcs11 seal needs a key_label");
    this.hsm = new HsmConnection(k, o);
  }

  /** Loads pkcs11js (an optional dependency) and builds the seal; touches no HSM yet. */
  static async create(options: Pkcs11SealOptions): Promise<Pkcs11Seal> {
    return new Pkcs11Seal(await loadPkcs11js(), options);
  }

  /** Where the HSM is, for messages. */
  where(): string {
    return this.hsm.where();
  }

  async protect(roots: readonly RootKey[], options: InitOptions): Promise<ProtectResult> {
    // Checks the HSM (and creates the key when asked) before any share exists.
    this.hsm.use((p11, s) => this.key(p11, s, this.o.keyLabels[0]!, this.o.generateKey));
    const { escrow, secrets, escrowKey } = await createEscrow(roots, options.shares, options.threshold);
    try {
      return { record: await this.reprotect(roots, escrow, escrowKey), secrets };
    } finally {
      zeroEscrowKeys(escrowKey);
    }
  }

  async reprotect(roots: readonly RootKey[], escrow: EscrowRecord, escrowKey: EscrowKeys): Promise<Pkcs11Record> {
    const next = await reescrow(escrow, escrowKey, roots);
    const label = this.o.keyLabels[0]!;
    const macKey: RootKey = { id: ESCROW_MAC_ID, key: escrowKey.macKey };
    const [hsmRoots, escrowMac] = this.hsm.use((p11, s) => {
      // generate_key also covers a migration from Shamir onto an HSM that has no key yet.
      const key = this.key(p11, s, label, this.o.generateKey);
      return [roots.map((r) => this.encrypt(p11, s, key, label, r, binding(r.id, next))), this.encrypt(p11, s, key, label, macKey, binding(ESCROW_MAC_ID, next))] as const;
    });
    return { type: "pkcs11", version: 1, roots: hsmRoots, escrowMac, escrow: next };
  }

  reset(): void {
    this.collector.reset();
  }

  pending(): number {
    return this.collector.count;
  }

  async close(): Promise<void> {
    this.reset();
    this.hsm.close();
  }

  async submit(record: SealRecord, input: string | undefined): Promise<UnsealProgress> {
    const r = record as Pkcs11Record;
    const threshold = r.escrow.threshold;
    if (input !== undefined) {
      // A recovery share: the quorum opens the escrow without the HSM (disaster recovery).
      const shared = await this.collector.add(input, threshold);
      if (shared === undefined) return { progress: this.collector.count, threshold };
      try {
        return { opened: await openWithShares(record, shared), progress: threshold, threshold };
      } finally {
        zero(shared);
      }
    }
    return { opened: await this.openWithHsm(r), progress: threshold, threshold };
  }

  /**
   * Decrypts every root and the escrow's MAC key in the HSM, and checks the escrow's MAC; throws
   * HsmError (unreachable: retry later; refused: do not).
   */
  private async openWithHsm(r: Pkcs11Record): Promise<Opened> {
    const roots: RootKey[] = [];
    let macKey: Buffer | undefined;
    const open = (p11: Pkcs11Instance, s: Handle, entry: HsmRoot): Buffer => {
      if (!this.o.keyLabels.includes(entry.keyLabel)) {
        throw new HsmError("refused", `${entry.id === ESCROW_MAC_ID ? "the escrow's MAC key" : `root ${entry.id}`} was sealed with HSM key "${entry.keyLabel}", which is not among the configured key labels (${this.o.keyLabels.join(", ")})`);
      }
      return this.decrypt(p11, s, this.key(p11, s, entry.keyLabel, false), entry, binding(entry.id, r.escrow));
    };
    try {
      if (r.escrowMac === undefined || r.escrowMac.id !== ESCROW_MAC_ID) throw new HsmError("refused", "the seal record has no HSM-encrypted escrow MAC key: it was altered");
      this.hsm.use((p11, s) => {
        for (const root of r.roots) roots.push({ id: root.id, key: open(p11, s, root) });
        macKey = open(p11, s, r.escrowMac);
      });
      // The HSM vouched for the escrow's public key (its hash is in every binding); the MAC covers its roots.
      let escrowKey: EscrowKeys;
      try {
        escrowKey = escrowKeysVouched(r.escrow, macKey!);
      } catch (err) {
        throw new HsmError("refused", `the recovery escrow in the seal record does not authenticate with the HSM's MAC key: it was altered (${this.hsm.where()})`, { cause: err });
      }
      const current = this.o.keyLabels[0]!;
      const stale = [...r.roots, r.escrowMac].some((e) => e.keyLabel !== current || e.mechanism !== this.o.mechanism);
      return { roots, escrow: r.escrow, escrowKey, ...(stale && { replacement: await this.reprotect(roots, r.escrow, escrowKey) }) };
    } catch (err) {
      for (const root of roots) zero(root.key);
      zero(macKey);
      throw err;
    }
  }

  /** The secret-key object with this label; `refused` when missing (unless `generate`) or ambiguous. */
  private key(p11: Pkcs11Instance, s: Handle, label: string, generate: boolean): Handle {
    const k = this.k;
    p11.C_FindObjectsInit(s, [
      { type: k.CKA_CLASS, value: k.CKO_SECRET_KEY },
      { type: k.CKA_LABEL, value: label },
    ]);
    let found: Handle[];
    try {
      found = p11.C_FindObjects(s, 2);
    } finally {
      p11.C_FindObjectsFinal(s);
    }
    if (found.length === 1) return found[0]!;
    if (found.length > 1) throw new HsmError("refused", `more than one key is labelled "${label}" on the HSM (${this.hsm.where()})`);
    if (!generate) throw new HsmError("refused", `the HSM (${this.hsm.where()}) has no key labelled "${label}" (create it, or set generate_key for init)`);
    return p11.C_GenerateKey(s, { mechanism: k.CKM_AES_KEY_GEN }, [
      { type: k.CKA_CLASS, value: k.CKO_SECRET_KEY },
      { type: k.CKA_KEY_TYPE, value: k.CKK_AES },
      { type: k.CKA_VALUE_LEN, value: 32 },
      { type: k.CKA_LABEL, value: label },
      { type: k.CKA_TOKEN, value: true },
      { type: k.CKA_PRIVATE, value: true },
      { type: k.CKA_SENSITIVE, value: true },
      { type: k.CKA_EXTRACTABLE, value: false },
      { type: k.CKA_ENCRYPT, value: true },
      { type: k.CKA_DECRYPT, value: true },
      { type: k.CKA_WRAP, value: true },
      { type: k.CKA_UNWRAP, value: true },
    ]);
  }

  private encrypt(p11: Pkcs11Instance, s: Handle, key: Handle, label: string, root: RootKey, bound: Buffer): HsmRoot {
    const k = this.k;
    if (this.o.mechanism === "aes_gcm") {
      const iv = p11.C_GenerateRandom(s, Buffer.alloc(GCM_IV_BYTES));
      p11.C_EncryptInit(s, { mechanism: k.CKM_AES_GCM, parameter: { type: k.CK_PARAMS_GCM, iv, ivBits: GCM_IV_BYTES * 8, aad: bound, tagBits: GCM_TAG_BYTES * 8 } }, key);
      const ct = p11.C_Encrypt(s, root.key, Buffer.alloc(ROOT_KEY_LENGTH + GCM_TAG_BYTES + 16));
      return { id: root.id, keyLabel: label, mechanism: "aes_gcm", iv: Buffer.from(iv).toString("base64"), ct: Buffer.from(ct).toString("base64") };
    }
    const value = Buffer.concat([root.key, sha256(bound)]);
    let object: Handle | undefined;
    try {
      object = p11.C_CreateObject(s, [
        { type: k.CKA_CLASS, value: k.CKO_SECRET_KEY },
        { type: k.CKA_KEY_TYPE, value: k.CKK_GENERIC_SECRET },
        { type: k.CKA_TOKEN, value: false },
        { type: k.CKA_SENSITIVE, value: false },
        { type: k.CKA_EXTRACTABLE, value: true },
        { type: k.CKA_VALUE, value },
      ]);
      const ct = p11.C_WrapKey(s, { mechanism: k.CKM_AES_KEY_WRAP_PAD }, key, object, Buffer.alloc(value.length + 16));
      return { id: root.id, keyLabel: label, mechanism: "aes_key_wrap_pad", ct: Buffer.from(ct).toString("base64") };
    } finally {
      zero(value);
      if (object !== undefined) p11.C_DestroyObject(s, object);
    }
  }

  private decrypt(p11: Pkcs11Instance, s: Handle, key: Handle, root: HsmRoot, bound: Buffer): Buffer {
    const k = this.k;
    const refused = (cause?: unknown) =>
      new HsmError("refused", `the sealed root ${root.id} does not open with HSM key "${root.keyLabel}" (${this.hsm.where()}): the seal record was altered, or this is not the key that sealed it`, {
        cause,
      });
    const ct = Buffer.from(root.ct, "base64");
    try {
      if (root.mechanism === "aes_gcm") {
        const iv = Buffer.from(root.iv ?? "", "base64");
        if (iv.length !== GCM_IV_BYTES || ct.length !== ROOT_KEY_LENGTH + GCM_TAG_BYTES) throw refused();
        p11.C_DecryptInit(s, { mechanism: k.CKM_AES_GCM, parameter: { type: k.CK_PARAMS_GCM, iv, ivBits: GCM_IV_BYTES * 8, aad: bound, tagBits: GCM_TAG_BYTES * 8 } }, key);
        // The root is copied out; what pkcs11js answered with (a view of `out`) is zeroed, whatever happens.
        const out = Buffer.alloc(ct.length);
        let plain: Buffer | undefined;
        try {
          plain = p11.C_Decrypt(s, ct, out);
          if (plain.length !== ROOT_KEY_LENGTH) throw refused();
          return Buffer.from(plain);
        } finally {
          zero(out);
          if (plain !== undefined) zero(plain);
        }
      }
      const object = p11.C_UnwrapKey(s, { mechanism: k.CKM_AES_KEY_WRAP_PAD }, key, ct, [
        { type: k.CKA_CLASS, value: k.CKO_SECRET_KEY },
        { type: k.CKA_KEY_TYPE, value: k.CKK_GENERIC_SECRET },
        { type: k.CKA_TOKEN, value: false },
        { type: k.CKA_SENSITIVE, value: false },
        { type: k.CKA_EXTRACTABLE, value: true },
      ]);
      let value: Buffer | undefined;
      try {
        value = p11.C_GetAttributeValue(s, object, [{ type: k.CKA_VALUE }])[0]?.value;
      } finally {
        p11.C_DestroyObject(s, object);
      }
      // `value` is the only copy of root ‖ hash outside the HSM: zeroed once the root is copied out.
      try {
        if (value === undefined || value.length !== ROOT_KEY_LENGTH + 32 || !value.subarray(ROOT_KEY_LENGTH).equals(sha256(bound))) throw refused();
        return Buffer.from(value.subarray(0, ROOT_KEY_LENGTH));
      } finally {
        if (value !== undefined) zero(value);
      }
    } catch (err) {
      // Lost sessions are the connection's to retry; anything else the HSM said about this record is a refusal.
      if (err instanceof HsmError || isSessionLost(err)) throw err;
      throw refused(err);
    }
  }
}

/** A refusal from the seal as the catalogue error callers see. */
export function sealRefusal(err: HsmError): TesseraError {
  return new TesseraError(err.kind === "unreachable" ? "Unavailable" : "InvalidState", err.message, { cause: err });
}
