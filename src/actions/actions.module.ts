import { Module, type DynamicModule } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import type { HubRole } from '../config/hub-config.js';
import { ConnectorsModule } from '../connectors/connectors.module.js';
import { QueueName } from '../queues/queue-policy.js';
import { ActionRunner } from './action-runner.js';
import { ActionRequeueSchedule, ActionWorker } from './action.worker.js';
import { CaseActions } from './case-actions.service.js';

/** Case actions: recorded with the case, run on the case-actions queue. */
@Module({
  imports: [BullModule.registerQueue({ name: QueueName.CaseActions }), ConnectorsModule],
  providers: [CaseActions, ActionRunner],
  exports: [CaseActions, ActionRunner],
})
export class ActionsModule {}

/** The action worker (role `worker`) and the requeue of lost actions (role `scheduler`). */
@Module({})
export class ActionWorkersModule {
  static forRoles(roles: HubRole[]): DynamicModule {
    return {
      module: ActionWorkersModule,
      imports: [ActionsModule],
      providers: [...(roles.includes('worker') ? [ActionWorker] : []), ...(roles.includes('scheduler') ? [ActionRequeueSchedule] : [])],
    };
  }
}
