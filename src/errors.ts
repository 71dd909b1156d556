// The closed set of error kinds. Every message names the thing at fault and says the fix;
// callers decide recovery by `kind`, never by parsing messages.
export type ErrorKind =
  | 'usage'          // wrong command-line arguments
  | 'config'         // invalid configuration
  | 'input'          // an input file that cannot be read or decoded
  | 'output'         // an output that cannot be written (or would overwrite an input)
  | 'model'          // a model file missing, unreadable or of the wrong shape
  | 'provider'       // an execution provider that cannot run
  | 'ffmpeg-missing' // no ffmpeg/ffprobe binary found
  | 'ffmpeg-failed' // ffmpeg started but failed
  | 'cluster';      // NATS unreachable, without JetStream, or a cluster operation refused

export class PieError extends Error {
  constructor(readonly kind: ErrorKind, message: string, readonly fix?: string, options?: { cause?: unknown }) {
    super(fix ? `${message}\n  fix: ${fix}` : message, options);
    this.name = `PieError(${kind})`;
  }
}

export const isPieError = (e: unknown, kind?: ErrorKind): e is PieError =>
  e instanceof PieError && (kind === undefined || e.kind === kind);

/** The message of anything thrown, for logs and summaries. */
export const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));
