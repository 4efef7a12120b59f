/**
 * A mistake in how the command was invoked (exit code 2), as opposed to a failure of the request
 * (exit code 1). Its message is shown to the user, so it must never contain a secret.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
