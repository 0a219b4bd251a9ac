import 'reflect-metadata';
import { Module, type INestApplicationContext, type Provider } from '@nestjs/common';
import { DiscoveryModule, NestFactory } from '@nestjs/core';
import { StartupFailure, WorkerConfig, loadConfig } from '@taskq/config';
import { TASK_TYPE_NAMES, type NoopPayload, type NoopResult } from '@taskq/contracts';
import { TaskQueries } from '@taskq/persistence';
import { TASK_HANDLERS } from '../handlers';
import { NoopHandler } from '../handlers/noop.handler';
import { HandlesTask, TASK_HANDLER_METADATA, type TaskHandler } from '../handlers/task-handler';
import { WebhookHandler } from '../handlers/webhook.handler';
import { HandlerRegistry } from './handler-registry';

@HandlesTask('noop')
class SecondNoopHandler implements TaskHandler<'noop'> {
  async handle(_payload: NoopPayload): Promise<NoopResult> {
    return { ok: true, note: 'second' };
  }
}

// A class claiming a type the registry does not know (as a stale handler would after a type is removed).
@HandlesTask('retired' as 'noop')
class RetiredTypeHandler implements TaskHandler<'noop'> {
  async handle(): Promise<NoopResult> {
    return { ok: true };
  }
}

@Module({})
class RegistryTestModule {}

/** The worker's discovery setup with a chosen handler list; handlers do no I/O when constructed. */
function startContext(handlers: Provider[]): Promise<INestApplicationContext> {
  return NestFactory.createApplicationContext(
    {
      module: RegistryTestModule,
      imports: [DiscoveryModule],
      providers: [
        { provide: WorkerConfig, useValue: loadConfig(WorkerConfig, { SMTP_URL: 'smtp://127.0.0.1:1' }) },
        { provide: TaskQueries, useValue: {} },
        ...handlers,
        HandlerRegistry,
      ],
    },
    { logger: false, abortOnError: false },
  );
}

describe(HandlerRegistry.name, () => {
  let context: INestApplicationContext | undefined;

  afterEach(async () => {
    await context?.close();
    context = undefined;
  });

  it('starts with the shipped handlers and hands out one handler per registered type', async () => {
    context = await startContext(TASK_HANDLERS);
    const sut = context.get(HandlerRegistry);

    for (const type of TASK_TYPE_NAMES) {
      const handlerClass = TASK_HANDLERS.find((handler) => Reflect.getMetadata(TASK_HANDLER_METADATA, handler) === type);
      expect(handlerClass).toBeDefined();
      expect(sut.get(type)).toBe(context.get(handlerClass as NonNullable<typeof handlerClass>));
    }
    expect(sut.get('noop')).toBeInstanceOf(NoopHandler);
    await expect(sut.get('noop').handle({ note: 'hi' }, {} as never)).resolves.toEqual({ ok: true, note: 'hi' });
  });

  it('refuses to start when a registered type has no handler, naming the type', async () => {
    const withoutWebhook = TASK_HANDLERS.filter((handler) => handler !== WebhookHandler);

    const started = startContext(withoutWebhook);

    await expect(started).rejects.toThrow(StartupFailure);
    await expect(started).rejects.toThrow('refusing to start: no handler for: webhook');
  });

  it('refuses to start when a type has two handlers, naming the type and both classes', async () => {
    const started = startContext([...TASK_HANDLERS, SecondNoopHandler]);

    await expect(started).rejects.toThrow(StartupFailure);
    await expect(started).rejects.toThrow('more than one handler for: noop (NoopHandler, SecondNoopHandler)');
  });

  it('reports every problem at once', async () => {
    const started = startContext([...TASK_HANDLERS.filter((handler) => handler !== WebhookHandler && handler !== NoopHandler), SecondNoopHandler, NoopHandler]);

    await expect(started).rejects.toThrow('refusing to start: no handler for: webhook; more than one handler for: noop (SecondNoopHandler, NoopHandler)');
  });

  it('refuses a handler for a type that is not registered', async () => {
    const started = startContext([...TASK_HANDLERS, RetiredTypeHandler]);

    await expect(started).rejects.toThrow(StartupFailure);
    await expect(started).rejects.toThrow('RetiredTypeHandler handles "retired", which is not a registered task type');
  });
});
