import { Module } from '@nestjs/common';
import { CallbackDispatcher } from './callback-dispatcher';

/** Completion callbacks (CALLBACK_*): delivered from the outbox tasks fill as they finish. */
@Module({ providers: [CallbackDispatcher] })
export class CallbacksModule {}
