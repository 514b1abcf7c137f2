import { Module } from '@nestjs/common';
import { RoutingModule } from '../routing/routing.module.js';
import { CaseDesk } from './case-desk.service.js';
import { CaseIntake } from './case-intake.service.js';
import { CasesController } from './cases.controller.js';

/** Cases: intake of routed exceptions (for the pipeline) and the case desk (for people). */
@Module({ imports: [RoutingModule], providers: [CaseIntake, CaseDesk], controllers: [CasesController], exports: [CaseIntake, CaseDesk] })
export class CasesModule {}
