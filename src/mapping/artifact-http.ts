import { HttpException } from '@nestjs/common';
import { z } from 'zod';
import { ArtifactProblem } from './artifact-registry.service.js';

const REASON = { 404: 'Not Found', 409: 'Conflict', 422: 'Unprocessable Entity' } as const;

/** Runs a registry call; an ArtifactProblem becomes its HTTP answer with the reason and any detail. */
export async function answering<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof ArtifactProblem) throw new HttpException({ statusCode: e.status, error: REASON[e.status], message: e.message, ...e.detail }, e.status);
    throw e;
  }
}

export const VersionParam = z.string().regex(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/, 'must be a semantic version such as 1.2.0');
export const IdParam = z.string().regex(/^[a-z0-9][a-z0-9-]{0,127}$/, 'lower-case letters, digits and dashes');

export const MappingScopeBody = z.strictObject({
  connectorId: z.string().min(1).max(64).optional(),
  documentType: z.string().min(1).max(64).optional(),
});
export const MappingActivationBody = MappingScopeBody.extend({ version: VersionParam });
export const PolicyActivationBody = z.strictObject({ version: VersionParam });
