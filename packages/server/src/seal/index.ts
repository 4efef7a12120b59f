export type * from "./seal.js";
export { ShamirSeal, validateShamirParameters } from "./shamir-seal.js";
export { Barrier } from "./barrier.js";
