import type { INestApplicationContext } from '@nestjs/common';

/**
 * The last step of an app's start (opening its listener), taken once the context is up, so a
 * failure can close the app: Nest leaves the connections of a context whose start failed open,
 * and a process or a test holding them never exits.
 */
export async function finishStartOrClose<T extends INestApplicationContext>(app: T, step: (app: T) => Promise<unknown>): Promise<T> {
  try {
    await step(app);
    return app;
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
}
