/**
 * `@tessera/client/core`: the SDK without envelope encryption — the client, its errors and its
 * transports — for programs that start often and call the server only, such as the `tessera` CLI.
 *
 * The main entry adds envelope encryption (envelope/), which loads `node:crypto` and `node:stream`
 * when imported; `tessera encrypt`, `key create` or `--help` use none of it. The frame-length limits
 * come along because they are plain numbers the CLI's options name (envelope/format.ts loads no
 * crypto). test/integration/cli-startup-modules.test.ts checks what a `tessera` call loads.
 */
export { TesseraClient, type TesseraClientOptions, type ListKeysOptions, type RoleInfo } from "./client.js";
export { TesseraResponseError } from "./response-error.js";
export { DEFAULT_TIMEOUT_MS, SOCKET_ADDRESS } from "./http.js";
export { tlsFetch, type TlsOptions } from "./tls-fetch.js";
export { socketFetch, httpFetch } from "./socket-fetch.js";
export { connectionProblem, describeConnectionProblem, type ConnectionProblem } from "./connection-error.js";
export { DEFAULT_FRAME_LENGTH, MAX_FRAME_LENGTH } from "./envelope/format.js";
