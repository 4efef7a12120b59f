export { PolicyService, validateGrants } from "./policy-service.js";
export { CERT_SPKI_ATTRIBUTE, evaluate, type Decision, type RequestFacts, type UnmetStatement } from "./evaluator.js";
export { compilePolicy, PolicyDocument, type CompiledPolicy } from "./policy-document.js";
export { globMatch } from "./glob.js";
export { EVERY, formatResource, parseResource, parseResourcePattern, patternCovers, resourceFor, resources, resourceTypes, typeSpelling, type Resource, type ResourceType } from "./resource.js";
export { actionResourceTypes, escalations, explicitOnlyActions, keyPolicyActions, keyScopedActions, type EscalationWarning } from "./action-resources.js";
