export type * from "./seal.js";
export { ShamirSeal, validateShamirParameters, quorumOf, openWithShares } from "./shamir-seal.js";
export { Pkcs11Seal, type Pkcs11SealOptions, type Pkcs11Mechanism } from "./pkcs11-seal.js";
export { HsmError } from "./hsm-error.js";
export { Barrier, SEAL_META } from "./barrier.js";
export { RootRing, newRootKey, ROOT_KEY_LENGTH, type RootKey } from "./root-ring.js";
export { ShareCollector } from "./shares.js";
export { sealedMetaFields, type SealedData, type ResealBatch } from "./sealed-data.js";
export { zeroEscrowKeys, type EscrowKeys, type EscrowRecord } from "./share-escrow.js";
