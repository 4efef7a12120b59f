export * from "./aead.js";
export * from "./hkdf.js";
export * from "./random.js";
export * from "./secrets.js";
export * from "./secret-key.js";
export * from "./xaes.js";
export * from "./kem.js";
export * from "./key-pairs.js";
