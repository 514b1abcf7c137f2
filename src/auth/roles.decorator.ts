import { SetMetadata } from '@nestjs/common';
import type { Role } from './api-key.entity.js';

export const ROLES_KEY = 'hub:roles';
export const PUBLIC_KEY = 'hub:public';

/** Roles allowed to call the handler besides admin, who may call everything. */
export const Allow = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);

/** Roles that may read: every role. */
export const ANY_ROLE: Role[] = ['viewer', 'operator', 'integrator'];

/** The handler authenticates its caller itself (e.g. webhook signatures) or is an operational probe. */
export const Public = () => SetMetadata(PUBLIC_KEY, true);
