export { KeyService, toMetadata, toVersionInfo } from "./key-service.js";
export type { Encrypted, Decrypted, Fence } from "./key-service.js";
export { KeyHandle, Keyring } from "./keyring.js";
export * as lifecycle from "./lifecycle.js";
export type { CancelRestore } from "./lifecycle.js";
export { MacOperations } from "./mac-operations.js";
export { AsymmetricOperations, newDataKeyPair } from "./asymmetric-operations.js";
export { ImportParameters, IMPORT_PARAMETERS_TTL_MS } from "./import-parameters.js";
