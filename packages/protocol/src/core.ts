/**
 * `@tessera/protocol/core`: everything of the protocol that clients use at run time — errors, the
 * ciphertext layout, key specs, actions, limits — without the TypeBox request/response schemas.
 *
 * The CLI and the SDK import values from here (types may come from the main entry: they are erased).
 * Loading the schemas means loading TypeBox, about 200 modules and a quarter of a second of CPU, in
 * every `tessera` process; the server, which validates with them, imports the main entry.
 * test/integration/cli-startup-modules.test.ts checks that a `tessera` call loads no TypeBox.
 */
export * from "./errors.js";
export * from "./ciphertext.js";
export * from "./base64.js";
export * from "./key-specs.js";
export * from "./actions.js";
export * from "./action-effects.js";
export * from "./server-options.js";
export * from "./token-refusals.js";
export * from "./audit-outcomes.js";
export * from "./constants.js";
