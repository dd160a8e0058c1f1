/** Bad usage of a command: printed without a stack, exit code 2 (SPEC 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
