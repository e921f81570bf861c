/**
 * Every error Tessera raises on purpose is a TesseraError with a stable code.
 * The CLI prints `message` on one line; the server maps `code` to an HTTP status.
 */
export type ErrorCode =
  | 'invalid_argument' // a user input is wrong: names the field and what was expected
  | 'not_found' // a file, model or job does not exist
  | 'shape_mismatch' // tensors whose shapes do not fit the op
  | 'corrupt_file' // a file exists but cannot be parsed (truncated, bad header, wrong dtype)
  | 'unsupported' // a valid request Tessera cannot serve (codec, dtype, size)
  | 'aborted' // an AbortSignal stopped the work
  | 'io_error' // the filesystem or a child process failed
  | 'internal'; // a bug: should never be seen

export class TesseraError extends Error {
  readonly code: ErrorCode;
  /** The input field or file the error is about, when there is one. */
  readonly param?: string;

  constructor(code: ErrorCode, message: string, options?: { param?: string; cause?: unknown }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'TesseraError';
    this.code = code;
    if (options?.param !== undefined) this.param = options.param;
  }
}

export function invalidArgument(param: string, message: string): TesseraError {
  return new TesseraError('invalid_argument', `${param}: ${message}`, { param });
}

export function isTesseraError(e: unknown): e is TesseraError {
  return e instanceof TesseraError;
}
