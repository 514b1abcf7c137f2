import { Controller, Get, NotFoundException, Param, ParseUUIDPipe } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CaseActions } from '../actions/case-actions.service.js';
import { Allow, ANY_ROLE } from '../auth/roles.decorator.js';
import { CaseTasks, describe } from './case-tasks.service.js';
import { SlaClocks } from './sla-clocks.service.js';

/** Read side of a case's commitments: SLA clocks, tasks, actions. Changes go through /v1/cases (CaseDesk). */
@ApiTags('cases')
@ApiBearerAuth()
@Controller('v1/cases')
export class CaseWorkController {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly clocks: SlaClocks,
    private readonly tasks: CaseTasks,
    private readonly actions: CaseActions,
  ) {}

  private async exists(id: string) {
    const rows: unknown[] = await this.ds.query(`SELECT 1 FROM cases WHERE id = $1`, [id]);
    if (!rows.length) throw new NotFoundException(`no case ${id}`);
  }

  @Get(':id/slas')
  @Allow(...ANY_ROLE)
  async slas(@Param('id', new ParseUUIDPipe()) id: string) {
    await this.exists(id);
    return { items: await this.clocks.forCase(id) };
  }

  @Get(':id/tasks')
  @Allow(...ANY_ROLE)
  async taskList(@Param('id', new ParseUUIDPipe()) id: string) {
    await this.exists(id);
    return { items: (await this.tasks.forCase(id)).map(describe) };
  }

  @Get(':id/actions')
  @Allow(...ANY_ROLE)
  async actionList(@Param('id', new ParseUUIDPipe()) id: string) {
    await this.exists(id);
    return { items: await this.actions.forCase(id) };
  }
}
