import { Module } from '@nestjs/common';
import { RoutingModule } from '../routing/routing.module.js';
import { SlaModule } from '../sla/sla.module.js';
import { BreachRisk } from './breach-risk.service.js';
import { CaseDesk } from './case-desk.service.js';
import { CaseIntake } from './case-intake.service.js';
import { CaseNarrative } from './case-narrative.service.js';
import { CasesController } from './cases.controller.js';
import { ExceptionRecording } from './exception-recording.service.js';

/**
 * Cases: recording exceptions into cases with their commitments (for the pipeline and for what the hub
 * raises itself) and the case desk (for people). CaseIntake stays inside: callers go through ExceptionRecording.
 */
@Module({
  imports: [RoutingModule, SlaModule],
  providers: [CaseIntake, ExceptionRecording, CaseDesk, CaseNarrative, BreachRisk],
  controllers: [CasesController],
  exports: [ExceptionRecording, CaseDesk],
})
export class CasesModule {}
