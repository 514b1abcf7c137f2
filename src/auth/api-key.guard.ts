import { CanActivate, ExecutionContext, ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import type { Role } from './api-key.entity.js';
import { ApiKeys, type Caller } from './api-keys.service.js';
import { PUBLIC_KEY, ROLES_KEY } from './roles.decorator.js';

export type AuthedRequest = FastifyRequest & { caller?: Caller };

/**
 * Every /v1 route needs an API key (`Authorization: Bearer <key>` or `x-api-key`), except
 * those marked @Public, which authenticate the caller themselves. Routes without @Allow are admin-only.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeys,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    const presented = bearer(req.headers.authorization) ?? header(req.headers['x-api-key']) ?? sessionKey(req);
    if (!presented) throw new UnauthorizedException('API key required: send `Authorization: Bearer <key>` or `x-api-key`');
    const caller = await this.keys.verify(presented);
    if (!caller) throw new UnauthorizedException('API key is not valid or was revoked');
    const allowed = this.reflector.getAllAndOverride<Role[]>(ROLES_KEY, targets) ?? [];
    if (caller.role !== 'admin' && !allowed.includes(caller.role)) {
      throw new ForbiddenException(`role ${caller.role} may not do this; needs ${['admin', ...allowed].join(' or ')}`);
    }
    req.caller = caller;
    return true;
  }
}

/** The dashboard's HttpOnly login cookie; it authenticates only reads of /v1/reports (see DashboardController). */
export const SESSION_COOKIE = 'hub_session';
function sessionKey(req: FastifyRequest): string | undefined {
  if (req.method !== 'GET' || !/^\/v1\/reports(\/|\?|$)/.test(req.url)) return undefined;
  for (const part of String(req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === SESSION_COOKIE && v.length) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

function bearer(v: string | undefined): string | undefined {
  const m = v?.match(/^Bearer\s+(\S+)$/i);
  return m?.[1];
}
function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v || undefined;
}
