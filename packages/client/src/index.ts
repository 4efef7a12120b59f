/**
 * `@tessera/client`: the SDK applications on VMs use to call Tessera. No dependency besides
 * `@tessera/protocol`, no native modules; uses the global `fetch` of Node ≥ 20.
 */
export { TesseraClient, type TesseraClientOptions, type ListKeysOptions, type RoleInfo } from "./client.js";
export { TesseraResponseError } from "./response-error.js";
export { DEFAULT_TIMEOUT_MS, SOCKET_ADDRESS } from "./http.js";
export { tlsFetch, type TlsOptions } from "./tls-fetch.js";
export { socketFetch } from "./socket-fetch.js";
export { connectionProblem, describeConnectionProblem, type ConnectionProblem } from "./connection-error.js";
