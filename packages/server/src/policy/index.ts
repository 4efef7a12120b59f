export { PolicyService, RoleBody, OPERATOR, type RoleInfo } from "./policy-service.js";
export { evaluate, type Decision, type RequestFacts, type Resource } from "./evaluator.js";
export { compilePolicy, PolicyDocument, type CompiledPolicy } from "./policy-document.js";
export { globMatch } from "./glob.js";
