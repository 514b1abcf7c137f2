import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Allow } from '../auth/roles.decorator.js';
import { ZodPipe } from '../http/zod.pipe.js';
import { PolicySimulation } from './policy-simulation.service.js';

const Simulate = z
  .strictObject({
    /** The candidate policy or overlay document; without it, policies/<id>/<version>/policy.json. */
    policy: z.record(z.string(), z.unknown()).optional(),
    /** Sample exceptions (canonical drafts: code, references, severity, site, enrichment ...). */
    exception: z.record(z.string(), z.unknown()).optional(),
    exceptions: z.array(z.record(z.string(), z.unknown())).min(1).max(500).optional(),
    /** Or: stored exceptions detected in the last N days (newest first, up to `limit`). */
    days: z.number().int().min(1).max(90).optional(),
    limit: z.number().int().min(1).max(5000).default(1000),
  })
  .refine((b) => [b.exception, b.exceptions, b.days].filter((x) => x !== undefined).length === 1, 'give exactly one of exception, exceptions or days');

const PathParams = z.strictObject({ id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/), version: z.string().regex(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/) });

@ApiTags('policies')
@ApiBearerAuth()
@Controller('v1/policies')
export class PolicySimulationController {
  constructor(private readonly simulation: PolicySimulation) {}

  /** Routes a sample exception, or the last N days of stored exceptions, through a candidate policy; writes nothing. */
  @Post(':id/versions/:version/simulate')
  @HttpCode(200)
  @Allow('operator', 'integrator')
  simulate(@Param(new ZodPipe(PathParams)) p: z.infer<typeof PathParams>, @Body(new ZodPipe(Simulate)) b: z.infer<typeof Simulate>) {
    return this.simulation.simulate(p.id, p.version, {
      policy: b.policy,
      exceptions: b.exceptions ?? (b.exception ? [b.exception] : undefined),
      days: b.days,
      limit: b.limit,
    });
  }
}
