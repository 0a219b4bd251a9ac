import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyScope, DEFAULT_STATS_WINDOW_MINUTES, TaskStatsQuery, type TaskStatsView } from '@taskq/contracts';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { RequiresScope } from '../auth/requires-scope.decorator';
import { ApiAnswer, ApiProblems, ApiQueryFrom } from '../docs/api-docs.decorators';
import { tenantFilterOf } from '../tasks/tenant-filter';
import { StatsService } from './stats.service';

/** The figures of the console's overview, for any client. */
@Controller('stats')
@ApiTags('stats')
export class StatsController {
  constructor(private readonly stats: StatsService) {}

  @Get()
  @RequiresScope(ApiKeyScope.TasksRead)
  @ApiOperation({
    summary: 'Queue depths and recent history per task type',
    description:
      'For every registered type: the jobs in its queue now by state (Redis; a queue serves every tenant), and over the last `windowMinutes` ' +
      "(whole minutes, the current one last) the tasks completed, the attempts failed (failed, timed out or lost) and the tasks dead per minute, " +
      "and the p50/p95 run time of the attempts that completed tasks (PostgreSQL; the key's tenant only, every tenant's for admin keys or the one `tenant` names).",
  })
  @ApiQueryFrom(TaskStatsQuery)
  @ApiAnswer(200, 'The figures.', 'TaskStats')
  @ApiProblems({
    400: 'windowMinutes is not a whole number from 1 to 1440, or tenant is malformed (see errors[]).',
    403: 'The key lacks `tasks:read`, or is no admin key and names another tenant in `tenant`.',
    503: 'Redis or PostgreSQL is unavailable (the detail names it), or the window took too long to compute.',
  })
  read(@Query() query: TaskStatsQuery, @CurrentPrincipal() principal: Principal): Promise<TaskStatsView> {
    return this.stats.stats(query.windowMinutes ?? DEFAULT_STATS_WINDOW_MINUTES, tenantFilterOf(principal, query.tenant));
  }
}
