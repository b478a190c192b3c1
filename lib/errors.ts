/**
 * An error a user can act on: what failed (naming the culprit) and, where there is one, what to do next.
 * `lib/` throws these; only the CLI entry point turns them into exit codes.
 */
export class SeelieError extends Error {
  override readonly name = "SeelieError";
  /** A next step for the user, printed under the message. */
  readonly hint?: string;
  /** The process exit code the entry point should use (2 = bad input, 1 = operation failed). */
  readonly exitCode: number;

  constructor(message: string, opts: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.hint = opts.hint;
    this.exitCode = opts.exitCode ?? 1;
  }
}

/** Bad input from the user (a flag, a file, a config value): exit code 2. */
export class UsageError extends SeelieError {
  constructor(message: string, hint?: string) {
    super(message, { hint, exitCode: 2 });
  }
}

/** Raised when the user interrupts an operation (Ctrl-C): exit code 130. */
export class InterruptedError extends SeelieError {
  constructor(what = "operation") {
    super(`${what} interrupted`, { exitCode: 130 });
  }
}

/** The message of any thrown value, for wrapping lower-level errors. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
