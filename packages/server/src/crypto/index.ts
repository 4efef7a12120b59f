export * from "./aead.js";
export * from "./hkdf.js";
export * from "./secrets.js";
