import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { DashboardController } from './dashboard.controller.js';
import { ExceptionExport } from './exception-export.js';
import { PartnerReports } from './partner-reports.service.js';
import { ReportStream } from './report-stream.js';
import { ReportsController } from './reports.controller.js';
import { Reports } from './reports.service.js';

/** Reporting: reports over trigger-maintained rollups, CSV export, the SSE change stream and the dashboard. */
@Module({ imports: [AuthModule], providers: [Reports, PartnerReports, ExceptionExport, ReportStream], controllers: [ReportsController, DashboardController] })
export class ReportingModule {}
