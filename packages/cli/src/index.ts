export { main, EXIT_USAGE } from "./main.js";
export type { Io } from "./io.js";
