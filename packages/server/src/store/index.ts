export type * from "./store.js";
export { SqliteStore } from "./sqlite-store.js";
