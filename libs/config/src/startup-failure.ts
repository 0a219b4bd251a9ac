/**
 * A start-up problem the operator can fix (a service down, a bad variable): printed as one
 * line, then the process exits non-zero. Anything else is a bug and keeps its stack.
 */
export class StartupFailure extends Error {
  override readonly name = 'StartupFailure';
}

/** What a start-up failure line says of a connection error: its code (ECONNREFUSED) when it has one, else its message. */
export function failureReason(error: unknown): string {
  return error instanceof Error ? ((error as NodeJS.ErrnoException).code ?? error.message) : String(error);
}

/** Runs an app's bootstrap; turns expected start-up failures into one clear line and exit code 1. */
export function runMain(appName: string, bootstrap: () => Promise<void>): void {
  bootstrap().catch((error: unknown) => {
    if (error instanceof Error && (error.name === 'StartupFailure' || error.name === 'ConfigError')) {
      process.stderr.write(`taskq ${appName}: ${error.message}\n`);
    } else {
      process.stderr.write(`taskq ${appName}: start-up failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    }
    process.exit(1);
  });
}
