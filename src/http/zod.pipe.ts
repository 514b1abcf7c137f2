import { BadRequestException, type PipeTransform } from '@nestjs/common';
import type { ZodType } from 'zod';

/** Validates a request body or query at the edge; handlers receive the parsed, typed value. */
export class ZodPipe<T> implements PipeTransform<unknown, T> {
  constructor(private readonly schema: ZodType<T>) {}

  transform(value: unknown): T {
    const r = this.schema.safeParse(value ?? {});
    if (r.success) return r.data;
    const problems = r.error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message }));
    throw new BadRequestException({
      statusCode: 400,
      error: 'Bad Request',
      message: problems.map((p) => `${p.path}: ${p.message}`).join('; '),
      problems,
    });
  }
}
