/**
 * Node built-ins that only some commands use, taken when a command runs rather than imported.
 *
 * Every `tessera` call is a process of its own, so what is imported is paid on every call. An ES
 * `import` of a built-in also builds its whole namespace, reading each lazy export: `node:crypto`'s
 * `webcrypto`/`subtle` then load Web Crypto, and `node:http`'s `WebSocket` loads undici, http2, zlib
 * and worker_threads. `process.getBuiltinModule` returns the module object without reading them.
 * test/integration/cli-startup-modules.test.ts checks what `--version` and `--help` load.
 */
export const nodeCrypto = () => process.getBuiltinModule("node:crypto");
