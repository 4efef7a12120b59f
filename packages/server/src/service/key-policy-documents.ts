/**
 * What the AWS adapter may know of key-policy documents, offered by the service layer (adapters reach
 * policy/ and store/ only through service/): the translation that validates a policy before CreateKey
 * makes the key, the AWS principal → Tessera role mapping grants share with key policies, and the
 * shape of a grant's constraints.
 */
export { roleOfPrincipal, translateKeyPolicy } from "../policy/key-policy.js";
export type { GrantConstraints } from "../store/index.js";
