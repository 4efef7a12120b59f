/** Envelope encryption of buffers and streams with a data key per message, and the data-key cache. */
export { encrypt, encryptStream, type EncryptOptions, type EncryptStreamOptions, type EncryptStreamExtraOptions } from "./encrypt.js";
export { decrypt, decryptStream, type DecryptOptions, type DecryptResult, type MessageInfo } from "./decrypt.js";
export { DataKeyCache, type DataKeyCacheOptions } from "./data-key-cache.js";
export type { EnvelopeKms } from "./data-keys.js";
export { DEFAULT_FRAME_LENGTH, MAX_FRAME_LENGTH } from "./format.js";
