export { authMethods, type AuthMethod, type Principal, type PrincipalKind } from "./principal.js";
export { DEFAULT_TOKEN_TTL_SECONDS, NAME_PATTERN, OPERATOR, RoleBody, RoleDirectory, roleInfo, type RoleInfo } from "./roles.js";
