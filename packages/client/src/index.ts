/**
 * `@tessera/client`: the SDK applications on VMs use to call Tessera, and envelope encryption of
 * buffers and streams with a data key per message (envelope/). No dependency besides
 * `@tessera/protocol`, no native modules; uses the global `fetch` of Node ≥ 20 and `node:crypto`.
 */
export { TesseraClient, type TesseraClientOptions, type ListKeysOptions, type RoleInfo } from "./client.js";
export { TesseraResponseError } from "./response-error.js";
export { DEFAULT_TIMEOUT_MS, SOCKET_ADDRESS } from "./http.js";
export { tlsFetch, type TlsOptions } from "./tls-fetch.js";
export { socketFetch, httpFetch } from "./socket-fetch.js";
export { connectionProblem, describeConnectionProblem, type ConnectionProblem } from "./connection-error.js";
export {
  encrypt,
  encryptStream,
  decrypt,
  decryptStream,
  DataKeyCache,
  DEFAULT_FRAME_LENGTH,
  MAX_FRAME_LENGTH,
  type EncryptOptions,
  type EncryptStreamOptions,
  type EncryptStreamExtraOptions,
  type DecryptOptions,
  type DecryptResult,
  type MessageInfo,
  type DataKeyCacheOptions,
  type EnvelopeKms,
} from "./envelope/index.js";
