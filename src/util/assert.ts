/**
 * Assertions stay on in production (STYLE.md §3): a broken invariant stops the operation with
 * a stack trace instead of letting corrupt state spread. Expected failures (bad input,
 * timeouts) are typed errors, never assertions.
 */
export class AssertionError extends Error {
  override readonly name = 'AssertionError';
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}
