/**
 * RSASSA-PSS over a digest the caller computed (AWS's MessageType DIGEST): EMSA-PSS encoding and
 * verification (RFC 8017 §9.1.1, §9.1.2) with MGF1 of the same hash and a salt as long as the hash,
 * around OpenSSL's raw RSA operation (`privateEncrypt`/`publicDecrypt` without padding; OpenSSL
 * blinds the private operation). node:crypto has no way to sign a prehashed message with PSS.
 *
 * The output is an ordinary PSS signature of the message the digest was computed from: node:crypto,
 * OpenSSL's command line and any other implementation verify it (tests check both ways).
 */
import { constants, createHash, privateEncrypt, publicDecrypt, randomBytes, type KeyObject } from "node:crypto";
import { equalBytes } from "./secrets.js";

type Hash = "sha256" | "sha384" | "sha512";
const H_LEN: Record<Hash, number> = { sha256: 32, sha384: 48, sha512: 64 };

function modulusBits(key: KeyObject): number {
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (bits === undefined) throw new RangeError("PSS needs an RSA key");
  return bits;
}

/** MGF1 (RFC 8017 §B.2.1). */
function mgf1(hash: Hash, seed: Uint8Array, length: number): Buffer {
  const out = Buffer.alloc(length);
  const counter = Buffer.alloc(4);
  for (let done = 0, i = 0; done < length; i++) {
    counter.writeUInt32BE(i);
    const block = createHash(hash).update(seed).update(counter).digest();
    done += block.copy(out, done);
  }
  return out;
}

/** H = Hash(0x00×8 ‖ mHash ‖ salt). */
const pssHash = (hash: Hash, mHash: Uint8Array, salt: Uint8Array) => createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();

export function pssSignDigest(privateKey: KeyObject, hash: Hash, mHash: Uint8Array): Buffer {
  const hLen = H_LEN[hash];
  const modBits = modulusBits(privateKey);
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const k = Math.ceil(modBits / 8);
  if (mHash.length !== hLen || emLen < 2 * hLen + 2) throw new RangeError("PSS digest length does not fit the key");
  const salt = randomBytes(hLen);
  const h = pssHash(hash, mHash, salt);
  // DB = PS (zeros) ‖ 0x01 ‖ salt, masked with MGF1(H).
  const db = Buffer.alloc(emLen - hLen - 1);
  db[db.length - hLen - 1] = 0x01;
  salt.copy(db, db.length - hLen);
  const mask = mgf1(hash, h, db.length);
  for (let i = 0; i < db.length; i++) db[i]! ^= mask[i]!;
  db[0]! &= 0xff >> (8 * emLen - emBits);
  const em = Buffer.concat([Buffer.alloc(k - emLen), db, h, Buffer.of(0xbc)]);
  return privateEncrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, em);
}

export function pssVerifyDigest(publicKey: KeyObject, hash: Hash, mHash: Uint8Array, signature: Uint8Array): boolean {
  const hLen = H_LEN[hash];
  const modBits = modulusBits(publicKey);
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const k = Math.ceil(modBits / 8);
  if (mHash.length !== hLen || signature.length !== k) return false;
  const m = publicDecrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, signature);
  if (m.length !== k || m.subarray(0, k - emLen).some((b) => b !== 0)) return false;
  const em = m.subarray(k - emLen);
  if (em[emLen - 1] !== 0xbc) return false;
  const maskedDb = em.subarray(0, emLen - hLen - 1);
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  if ((maskedDb[0]! & ~(0xff >> (8 * emLen - emBits)) & 0xff) !== 0) return false;
  const db = mgf1(hash, h, maskedDb.length);
  for (let i = 0; i < db.length; i++) db[i]! ^= maskedDb[i]!;
  db[0]! &= 0xff >> (8 * emLen - emBits);
  const psLength = emLen - 2 * hLen - 2;
  if (db.subarray(0, psLength).some((b) => b !== 0) || db[psLength] !== 0x01) return false;
  return equalBytes(pssHash(hash, mHash, db.subarray(db.length - hLen)), h);
}
