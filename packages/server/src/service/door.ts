/**
 * The one door every request passes: sealed check → authenticate → (the operation resolves its
 * target) → authorize → [intent] → execute → audit. Services build their operations on `run`
 * (authenticated), `open` (init, unseal, logins: the request carries its own proof) and `system`
 * (the server's own scheduled changes). One outcome entry per request, allowed or denied, written
 * before the answer; if it cannot be written the answer is `Unavailable` (fail closed).
 *
 * Nothing changes unaudited: for an action that changes state (protocol/action-effects.ts) an
 * *intent* entry is made durable once the request is authorised and before the operation can change
 * anything. If the intent cannot be written the request fails and nothing has changed; if the change
 * was made but the outcome entry then cannot be written, the trail still holds the intent (same
 * request id) and the caller gets `Unavailable`.
 */
import {
  TesseraError,
  changesState,
  isTesseraError,
  type Action,
  type EncryptionContext,
  type LoginAction,
  type SystemAction,
  type NoticeAction,
} from "@tessera/protocol";
import { randomUUID } from "node:crypto";
import { iso, type Clock } from "../clock.js";
import type { AuditEntry, AuditRecorder } from "../audit/auditor.js";
import type { Authenticator, CallContext } from "../identity/authenticator.js";
import type { Principal } from "../principal/index.js";
import { resources, type Decision, type PolicyService, type Resource } from "../policy/index.js";
import { grantIdOfPolicy } from "../policy/grant-policy.js";
import type { KeyHandle, KeyService } from "../keys/index.js";
import type { Barrier } from "../seal/index.js";
import type { Refusal, RefusalLog } from "./refusal-log.js";
import type { QuotaGate } from "./quotas.js";

export type { CallContext };

/** Handed to each operation inside the door. */
export interface Scope {
  readonly principal: Principal;
  readonly ctx: CallContext;
  /**
   * Checks the principal may do the door's action (or `action`) on `resource` (typed: policy/resource.ts), with the request's
   * encryption context for context conditions. Throws `AccessDenied`.
   */
  authorize(resource: Resource | KeyHandle, options?: AuthorizeOptions): Promise<Decision>;
  /** Resolves a key reference; a caller with no right to it learns only AccessDenied. */
  resolveKey(ref: string, action?: Action): Promise<KeyHandle>;
  /** Records the key version an operation used, for the audit entry. */
  note(keyId: string, keyVersion?: number): void;
  /** Adds values to the audit entry's detail (ids the operation made or used; never secrets or caller text). */
  detail(values: Readonly<Record<string, string | number>>): void;
  /**
   * Marks an operation on the caller's own token as authorised: every token may see, renew and
   * revoke itself. Like `authorize`, it writes the intent entry of a state-changing action.
   */
  permitSelf(): Promise<void>;
}

export interface AuthorizeOptions {
  action?: Action;
  context?: EncryptionContext | undefined;
  /** Wrapped export: hex SHA-256 of the recipient's SubjectPublicKeyInfo (policy condition `wrapToOwnCertificate`). */
  wrapRecipient?: string | undefined;
}

/** What an open operation may tell the audit entry about who logged in. */
export interface OpenScope {
  ctx: CallContext;
  identify(principal: Pick<Principal, "id" | "kind" | "displayName" | "role" | "authMethod">): void;
  /**
   * With `credentialFirst`: the operation has checked its credential and is about to change state —
   * the door makes the intent record durable now (or throws, and nothing may change).
   */
  beforeChange(): Promise<void>;
}

export interface OpenOptions {
  /** Init: answer once the change is made even if the outcome record is lost (the intent is durable). */
  answerOnceChanged?: boolean;
  /**
   * Logins: the operation checks the caller's credential before it changes anything and calls
   * `beforeChange` in between, so a wrong credential writes no intent; its refusal is throttled
   * like any unauthenticated request. Without it the intent is written before the operation starts.
   */
  credentialFirst?: boolean;
  /**
   * Anyone can call it and it changes state without a credential the server can check first
   * (unseal shares are only known good at the threshold): its intent and outcome records draw on
   * the caller's refusal budget, so a flood of attempts cannot fill the audit disk. Over budget →
   * `Unavailable`, counted like any refusal.
   */
  rateLimited?: boolean;
}

export interface DoorDeps {
  barrier: Barrier;
  keys: Pick<KeyService, "resolve">;
  authenticator: Authenticator;
  policy: PolicyService;
  auditor: AuditRecorder;
  /** Where requests refused before any operation are recorded (throttled under a flood). */
  refusals: Pick<RefusalLog, "record" | "take">;
  clock: Clock;
  /** After a change, before its answer: waits until every node can have heard of it (CacheCoherence.settle). */
  settle?: () => Promise<void>;
  /** Per-principal request quotas (service/quotas.ts); absent or inactive = no limit. */
  quotas?: Pick<QuotaGate, "take" | "active" | "hold">;
}

const asResource = (r: Resource | KeyHandle): Resource => ("row" in r ? resources.key(r.row.id, r.row.name) : r);

type AuditedPrincipal = Pick<Principal, "id" | "kind" | "displayName" | "role" | "authMethod">;

/** Who the audit trail names for changes the server makes by itself. */
export const SYSTEM_PRINCIPAL: AuditedPrincipal = Object.freeze({ id: "tessera:system", kind: "system" as Principal["kind"], displayName: "Tessera scheduler", role: null, authMethod: "system" as Principal["authMethod"] });

export interface RunOptions {
  /** The operation may run while sealed (seal, token self-service). */
  whileSealed?: boolean;
  /** The action's name covers reads and writes (auth:ConfigureJwt) and this call only reads. */
  readOnly?: boolean;
}

export class Door {
  constructor(private readonly d: DoorDeps) {}

  async run<T>(ctx: CallContext, action: Action, op: (scope: Scope) => Promise<T>, options: RunOptions = {}): Promise<T> {
    const started = performance.now();
    let principal: Principal | null = null;
    let authorized = false;
    const writes = options.readOnly !== true && changesState(action);
    let intent: Promise<void> | undefined;
    // Once per request, after the first successful authorisation and before the operation goes on.
    const beforeChange = (p: Principal): Promise<void> => (intent ??= this.intent(ctx, action, started, p, keyId));
    let keyId: string | null = null;
    let keyVersion: number | null = null;
    let sensitive: Record<string, string> | undefined;
    let detail: Record<string, string | number> | undefined;
    let result: T | undefined;
    let failure: unknown;
    try {
      if (!options.whileSealed) this.d.barrier.assertUnsealed();
      const p = await this.d.authenticator.authenticate(ctx);
      principal = p;
      if (this.d.quotas?.active === true) this.d.quotas.take(p);
      const scope: Scope = {
        principal: p,
        ctx,
        authorize: async (resource, o = {}) => {
          const r = asResource(resource);
          if (r.type === "key" && r.id !== null && keyId === null) keyId = r.id;
          if (o.context !== undefined && sensitive === undefined) {
            sensitive = {};
            for (const [k, v] of Object.entries(o.context)) sensitive[`context.${k}`] = v;
          }
          const decision = await this.d.policy.authorize({
            principal: p,
            action: o.action ?? action,
            resource: r,
            source: ctx.source,
            time: this.d.clock.now(),
            encryptionContext: o.context,
            wrapRecipient: o.wrapRecipient,
            grantIds: ctx.grantIds,
          });
          // An operation a grant allowed names the grant (policy/grant-policy.ts).
          const grant = grantIdOfPolicy(decision.policy);
          if (grant !== undefined) detail = { ...detail, grant };
          authorized = true;
          if (writes) await beforeChange(p);
          return decision;
        },
        resolveKey: async (ref, a = action) => {
          try {
            return await this.d.keys.resolve(ref);
          } catch (err) {
            if (isTesseraError(err) && err.code === "NotFound" && !(await this.d.policy.allows(p, a, resources.keyRef(ref), ctx.source))) {
              throw new TesseraError("AccessDenied", `not allowed to ${a} on ${ref}`);
            }
            throw err;
          }
        },
        detail: (values) => {
          detail = { ...detail, ...values };
        },
        note: (id, version) => {
          keyId = id;
          if (version !== undefined) keyVersion = version;
        },
        permitSelf: async () => {
          authorized = true;
          if (writes) await beforeChange(p);
        },
      };
      result = await op(scope);
      // Defence in depth: an operation that forgot to authorise fails instead of succeeding.
      if (!authorized) throw new TesseraError("Internal", `operation ${action} completed without authorisation`);
      // Other nodes hear of the change before its answer leaves (service/cache-coherence.ts).
      if (writes && this.d.settle !== undefined) await this.d.settle().catch(() => undefined);
    } catch (err) {
      failure = err;
    }
    if (failure !== undefined && (principal === null || (isTesseraError(failure) && failure.code === "Throttled" && !authorized))) {
      // Refused before anyone was authenticated (sealed, no or bad credential), or over the
      // principal's quota: nothing was done, and such requests are what a flood is made of —
      // recorded through the throttle (a throttled principal is named in the record).
      await this.d.refusals.record(ctx, failure, principal === null ? {} : { principal }, action);
      // Over quota: answered late, so a client that ignores Retry-After cannot outpace its quota's refusals.
      if (principal !== null) await this.d.quotas?.hold();
    } else await this.audit(ctx, action, started, failure, principal, keyId, keyVersion, sensitive, detail);
    if (failure !== undefined) throw failure;
    return result as T;
  }

  /** Operations that carry their own proof (init, unseal, logins): audited, not token-authenticated. */
  async open<T>(ctx: CallContext, action: LoginAction, op: (scope: OpenScope) => Promise<T>, options: OpenOptions = {}): Promise<T> {
    const started = performance.now();
    let who: AuditedPrincipal | null = null;
    let result: T | undefined;
    let failure: unknown;
    let intent: Promise<void> | undefined;
    const beforeChange = (): Promise<void> => (intent ??= changesState(action) ? this.intent(ctx, action, started, who, null) : Promise.resolve());
    try {
      if (options.rateLimited === true && !this.d.refusals.take(ctx.source)) {
        throw new TesseraError("Unavailable", "too many attempts from this address; try again in a few seconds");
      }
      if (options.credentialFirst !== true) await beforeChange();
      result = await op({ ctx, identify: (p) => (who = p), beforeChange });
      // Defence in depth, as `run` checks authorisation: a credential-first operation that succeeded
      // must have announced its change.
      if (intent === undefined && changesState(action)) throw new TesseraError("Internal", `operation ${action} completed without announcing its change`);
      // Init (a seal record other processes must load) is heard everywhere before its answer, as in `run`.
      if (intent !== undefined && this.d.settle !== undefined) await this.d.settle().catch(() => undefined);
    } catch (err) {
      failure = err;
    }
    try {
      if (failure !== undefined && intent === undefined) await this.d.refusals.record(ctx, failure, who === null ? {} : { principal: who }, action);
      else await this.audit(ctx, action, started, failure, who, null, null);
    } catch (err) {
      // Init's answer is the only copy of the unseal shares and the root token: once its intent is
      // durable and the change made, withholding the answer would leave a server nobody can unseal.
      if (!(options.answerOnceChanged === true && failure === undefined)) throw err;
    }
    if (failure !== undefined) throw failure;
    return result as T;
  }

  /**
   * A change the server makes by itself (automatic rotation, destruction, purges), audited under
   * the system principal like any request: intent, change, outcome.
   */
  async system<T>(action: Action | SystemAction, keyId: string | null, op: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const ctx: CallContext = { token: undefined, source: "tessera", requestId: `system-${randomUUID()}` };
    let result: T | undefined;
    let failure: unknown;
    try {
      await this.intent(ctx, action, started, SYSTEM_PRINCIPAL, keyId);
      result = await op();
      // A destruction or rotation is in effect on every node and worker before its outcome record.
      if (this.d.settle !== undefined) await this.d.settle().catch(() => undefined);
    } catch (err) {
      failure = err;
    }
    await this.audit(ctx, action, started, failure, SYSTEM_PRINCIPAL, keyId, null);
    if (failure !== undefined) throw failure;
    return result as T;
  }

  /**
   * Records something the server did by itself that changes no state, under the system principal:
   * one outcome record with `detail` (a worker replacing one that died). Throws `Unavailable` if the
   * record cannot be written.
   */
  async notice(action: NoticeAction, detail: Record<string, string | number>): Promise<void> {
    const ctx: CallContext = { token: undefined, source: "tessera", requestId: `system-${randomUUID()}` };
    await this.audit(ctx, action, performance.now(), undefined, SYSTEM_PRINCIPAL, null, null, undefined, detail);
  }

  /**
   * Records a request an adapter refused before it reached an operation (no route, malformed body,
   * failed signature …) as `api:Rejected`: on its own, or — once its source refuses too often —
   * counted into a summary record (service/refusal-log.ts). Throws `Unavailable` if its record
   * cannot be written.
   */
  rejected(ctx: CallContext, err: unknown, refusal?: Refusal): Promise<void> {
    return this.d.refusals.record(ctx, err, refusal);
  }

  /** The durable record that a state change is about to be attempted; throws `Unavailable` (nothing changed) if it cannot be written. */
  private async intent(ctx: CallContext, action: AuditEntry["action"], started: number, principal: AuditedPrincipal | null, keyId: string | null): Promise<void> {
    try {
      await this.d.auditor.record(this.entry(ctx, action, started, principal, keyId, null, "intent", null));
    } catch (err) {
      throw new TesseraError("Unavailable", "the audit log could not be written; nothing was changed", { cause: err });
    }
  }

  private async audit(
    ctx: CallContext,
    action: AuditEntry["action"],
    started: number,
    failure: unknown,
    principal: AuditedPrincipal | null,
    keyId: string | null,
    keyVersion: number | null,
    sensitive?: Record<string, string>,
    detail?: Record<string, string | number>,
  ): Promise<void> {
    const code = failure === undefined ? null : isTesseraError(failure) ? failure.code : "Internal";
    const denied = code === "AccessDenied" || code === "Unauthenticated" || code === "InvalidUnsealKey";
    const entry = this.entry(ctx, action, started, principal, keyId, keyVersion, code === null ? "allowed" : denied ? "denied" : "error", code);
    if (sensitive !== undefined) entry.sensitive = sensitive;
    if (detail !== undefined) entry.detail = detail;
    try {
      await this.d.auditor.record(entry);
    } catch (err) {
      // Fail closed: an answer whose audit entry could not be written is not given.
      throw new TesseraError("Unavailable", "the audit log could not be written; the request was not completed", { cause: err });
    }
  }

  private entry(
    ctx: CallContext,
    action: AuditEntry["action"],
    started: number,
    principal: AuditedPrincipal | null,
    keyId: string | null,
    keyVersion: number | null,
    outcome: AuditEntry["outcome"],
    errorCode: string | null,
  ): AuditEntry {
    return {
      time: iso(this.d.clock.now()),
      requestId: ctx.requestId,
      principal: principal === null ? null : auditedPrincipal(principal),
      source: ctx.source,
      action,
      keyId,
      keyVersion,
      outcome,
      errorCode,
      latencyMs: Math.round((performance.now() - started) * 1000) / 1000,
    };
  }
}

const auditedPrincipal = (p: AuditedPrincipal): NonNullable<AuditEntry["principal"]> => ({
  id: p.id,
  kind: p.kind,
  displayName: p.displayName,
  role: p.role,
  authMethod: p.authMethod,
});
