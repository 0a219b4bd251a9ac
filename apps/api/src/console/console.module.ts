import { Module } from '@nestjs/common';
import { ConsoleSessionController } from './console-session.controller';
import { ConsoleSessions } from './console-sessions';

/** The console's sign-in (its files are mounted by mountConsole, beside the board). */
@Module({
  controllers: [ConsoleSessionController],
  providers: [ConsoleSessions],
  exports: [ConsoleSessions],
})
export class ConsoleModule {}
