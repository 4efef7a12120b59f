export * from "./errors.js";
export * from "./ciphertext.js";
export * from "./schemas.js";
export * from "./actions.js";
export * from "./action-effects.js";
export * from "./identity-schemas.js";
export * from "./machine-schemas.js";
export * from "./jwt-schemas.js";
export const TESSERA_VERSION = "0.1.0";
