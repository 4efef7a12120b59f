/**
 * A login checks its credential first and changes state only after (spends a secret id or join
 * token, issues a token or certificate). Just before the first change it calls `beforeChange`: the
 * door's hook that makes the request's intent record durable, or throws (and nothing changes). A
 * refused credential therefore writes no intent and changes nothing.
 */
export type BeforeChange = () => Promise<void>;

/** For callers outside the door (tests, tools): nothing to announce. */
export const noChangeHook: BeforeChange = async () => undefined;
