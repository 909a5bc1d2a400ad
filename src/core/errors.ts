// Errors with a stable code and a cause. Codes are part of the interface: tests and operators
// match on them, so rename none without a migration note.

export type ErrorCode =
  | 'E_CONFIG'
  | 'E_USAGE'
  | 'E_UNSUPPORTED'
  | 'E_SPAWN'
  | 'E_TIMEOUT'
  | 'E_COMMAND_FAILED'
  | 'E_STORE'
  | 'E_ADDRESS'
  | 'E_IO'
  | 'E_RULE'
  | 'E_MAIL'
  | 'E_LOCKED'
  | 'E_DAEMON';

export class SentinelError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'SentinelError';
  }
}

/** A backend or feature is not available on this host; `auto` selection moves on to the next. */
export class UnsupportedError extends SentinelError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_UNSUPPORTED', message, options);
    this.name = 'UnsupportedError';
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
