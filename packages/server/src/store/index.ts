export type * from "./store.js";
export { SqliteStore } from "./sqlite-store.js";
export { PostgresStore, type PostgresStoreOptions } from "./postgres-store.js";
export { Eraser, type EraserDeps } from "./eraser.js";
