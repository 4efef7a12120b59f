/**
 * `@tessera/client`: the SDK applications on VMs use to call Tessera, and envelope encryption of
 * buffers and streams with a data key per message (envelope/). No dependency besides
 * `@tessera/protocol`, no native modules; uses the global `fetch` of Node ≥ 20 and `node:crypto`.
 */
export * from "./core.js";
export {
  encrypt,
  encryptStream,
  decrypt,
  decryptStream,
  DataKeyCache,
  type EncryptOptions,
  type EncryptStreamOptions,
  type EncryptStreamExtraOptions,
  type DecryptOptions,
  type DecryptResult,
  type MessageInfo,
  type DataKeyCacheOptions,
  type EnvelopeKms,
} from "./envelope/index.js";
