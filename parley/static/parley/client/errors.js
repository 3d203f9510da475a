// Errors the client raises: the server's `error` frames, and what the client itself refuses.

/**
 * A request Parley refused, or one the client could not carry out.
 *
 * `code` is the server's (invalid, forbidden, not_found, too_large, rate_limited, unavailable,
 * internal) or the client's own: `closed` when close() ended the request, or the server ended
 * the sign-in (close code 4401) before it was answered. `detail` is the server's sentence, for
 * people. `retryAfter` (seconds) comes with rate_limited; `closeCode` with errors that ended the
 * connection.
 */
export class ParleyError extends Error {
  constructor(code, detail, { retryAfter = null, closeCode = null, ref = null } = {}) {
    super(detail);
    this.name = "ParleyError";
    this.code = code;
    this.detail = detail;
    this.retryAfter = retryAfter;
    this.closeCode = closeCode;
    this.ref = ref;
  }

  /** The error an `error` frame describes. */
  static fromFrame(frame) {
    return new ParleyError(frame.code, frame.detail, { retryAfter: frame.retry_after ?? null, ref: frame.ref ?? null });
  }
}
