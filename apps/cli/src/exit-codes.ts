/** What `taskq` exits with (docs/cli.md lists them). */
export const EXIT = {
  ok: 0,
  /** The API refused (4xx, 5xx) or could not be reached. */
  failed: 1,
  /** Bad arguments (commander's own usage errors exit with it too). */
  usage: 2,
  /** A task waited for ended dead. */
  dead: 3,
  /** A task waited for ended cancelled. */
  cancelled: 4,
  /** Ctrl-C during a wait. */
  interrupted: 130,
} as const;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}
