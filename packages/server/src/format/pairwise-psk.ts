/**
 * Pairwise pre-shared keys (docs/formats.md, "Pairwise PSK"): one key for two VMs, derived from a key
 * version's material and bound to the key, the version, both VM ids in sorted order and a purpose.
 *
 *   PSK = HKDF-SHA256(ikm = material, salt = empty,
 *                     info = "tessera/v1/psk" ‖ encodeContext({key, version, a, b, purpose}), L = 32)
 *   with a < b the two VM ids in byte order.
 *
 * The info's prefix differs from Derive's ("tessera/v1/derive") at its 12th byte, so no Derive
 * context yields a PSK, and a caller with kms:Derive cannot compute another pair's key.
 */
import { encodeContext } from "@tessera/protocol";
import { hkdfSha256 } from "../crypto/index.js";

const PSK_INFO = Buffer.from("tessera/v1/psk", "utf8");
export const PSK_LENGTH = 32;

export interface PskParties {
  keyId: string;
  keyVersion: number;
  self: string;
  peer: string;
  purpose: string;
}

/** The two parties in byte order: [a, b] with a < b (both sides compute the same). */
export function orderedParties(x: string, y: string): [string, string] {
  return Buffer.compare(Buffer.from(x, "utf8"), Buffer.from(y, "utf8")) <= 0 ? [x, y] : [y, x];
}

export function derivePairwisePsk(material: Uint8Array, p: PskParties): Buffer {
  const [a, b] = orderedParties(p.self, p.peer);
  const info = Buffer.concat([PSK_INFO, encodeContext({ key: p.keyId, version: String(p.keyVersion), a, b, purpose: p.purpose })]);
  return hkdfSha256(material, Buffer.alloc(0), info, PSK_LENGTH);
}

/**
 * The TLS PSK identity the client side sends: names the key, version, purpose and the sender, so the
 * server side can ask Tessera for the same key (`psk --peer <sender> --version <n> --purpose <p>`).
 * VM ids and purposes contain no `/`; key ids are UUIDs.
 */
export function pskIdentity(p: PskParties): string {
  return `tessera-psk/v1/${p.keyId}/${p.keyVersion}/${p.purpose}/${p.self}`;
}
