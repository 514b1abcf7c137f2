import { Module, type DynamicModule } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { ActionsModule } from '../actions/actions.module.js';
import { HUB_CONFIG, type HubConfig, type HubRole } from '../config/hub-config.js';
import { QueueName } from '../queues/queue-policy.js';
import { RoutingModule } from '../routing/routing.module.js';
import { CaseCommitments } from './case-commitments.service.js';
import { CaseTasks } from './case-tasks.service.js';
import { Clock, ManualClock, SystemClock } from './clock.js';
import { CaseWorkController } from './case-work.controller.js';
import { SlaClocks } from './sla-clocks.service.js';
import { SlaAlarmWorker, SlaRearmSchedule, SlaTimers } from './sla-timers.js';

/** SLA clocks, parallel tasks, and the glue that gives new and changed cases their clocks, tasks and actions. */
@Module({
  imports: [BullModule.registerQueue({ name: QueueName.SlaTimers }), RoutingModule, ActionsModule],
  providers: [
    { provide: Clock, useFactory: (cfg: HubConfig) => (cfg.testClock ? new ManualClock() : new SystemClock()), inject: [HUB_CONFIG] },
    SlaClocks,
    SlaTimers,
    CaseTasks,
    CaseCommitments,
  ],
  controllers: [CaseWorkController],
  exports: [Clock, SlaClocks, SlaTimers, CaseTasks, CaseCommitments, ActionsModule],
})
export class SlaModule {}

/** The alarm worker (role `worker`) and re-arming from sla_clocks (role `scheduler`). */
@Module({})
export class SlaWorkersModule {
  static forRoles(roles: HubRole[]): DynamicModule {
    return {
      module: SlaWorkersModule,
      imports: [SlaModule],
      providers: [...(roles.includes('worker') ? [SlaAlarmWorker] : []), ...(roles.includes('scheduler') ? [SlaRearmSchedule] : [])],
    };
  }
}
