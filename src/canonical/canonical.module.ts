import { Module } from '@nestjs/common';
import { SchemaController } from './schema.controller.js';

/** The canonical exception model: taxonomy, schema, validation. Pure functions; the controller publishes them. */
@Module({ controllers: [SchemaController] })
export class CanonicalModule {}
