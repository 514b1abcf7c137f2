import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Allow, ANY_ROLE } from '../auth/roles.decorator.js';
import { exceptionJsonSchema } from './exception.schema.js';
import { ROOT_CAUSES, TAXONOMY } from './taxonomy.js';

@ApiTags('schema')
@ApiBearerAuth()
@Controller('v1/schema')
export class SchemaController {
  private readonly schema = exceptionJsonSchema();

  /** The canonical exception model v1 as JSON Schema (draft 2020-12), with per-code required attributes. */
  @Get('exception')
  @Allow(...ANY_ROLE)
  exception() {
    return this.schema;
  }

  @Get('taxonomy')
  @Allow(...ANY_ROLE)
  taxonomy() {
    return { codes: TAXONOMY };
  }

  @Get('root-causes')
  @Allow(...ANY_ROLE)
  rootCauses() {
    return { rootCauses: ROOT_CAUSES };
  }
}
