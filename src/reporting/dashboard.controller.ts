import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Body, Controller, Get, HttpCode, NotFoundException, Post, Req, Res, UnauthorizedException } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { SESSION_COOKIE } from '../auth/api-key.guard.js';
import { ApiKeys } from '../auth/api-keys.service.js';
import { Public } from '../auth/roles.decorator.js';
import { ZodPipe } from '../http/zod.pipe.js';

const Login = z.strictObject({ apiKey: z.string().trim().min(8).max(512) });
const SESSION_SECONDS = 12 * 3600;

/** dist/dashboard, built by `npm run build` (esbuild) next to the compiled server. */
function dashboardDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'dist', 'dashboard');
    try {
      readFileSync(path.join(candidate, 'index.html'));
      return candidate;
    } catch {
      dir = path.dirname(dir);
    }
  }
  return path.resolve('dist/dashboard');
}

const ASSETS: Record<string, string> = { 'app.js': 'text/javascript; charset=utf-8', 'app.css': 'text/css; charset=utf-8' };

/**
 * The operations dashboard. Sign-in exchanges an API key (any role) for an HttpOnly, SameSite=Strict
 * cookie; the cookie is accepted only for GET /v1/reports/* (the guard), so it cannot drive changes.
 */
@ApiExcludeController()
@Controller('dashboard')
export class DashboardController {
  private readonly dir = dashboardDir();
  private readonly cache = new Map<string, Buffer>();

  constructor(private readonly keys: ApiKeys) {}

  private file(name: string): Buffer {
    let b = this.cache.get(name);
    if (!b) {
      try {
        b = readFileSync(path.join(this.dir, name));
      } catch {
        throw new NotFoundException(`dashboard asset ${name} is missing; run \`npm run build\``);
      }
      this.cache.set(name, b);
    }
    return b;
  }

  @Public()
  @Get()
  page(@Res() reply: FastifyReply) {
    return reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:")
      .header('x-frame-options', 'DENY')
      .send(this.file('index.html'));
  }

  @Public()
  @Get('assets/:name')
  asset(@Req() req: FastifyRequest<{ Params: { name: string } }>, @Res() reply: FastifyReply) {
    const type = ASSETS[req.params.name];
    if (!type) throw new NotFoundException('no such dashboard asset');
    return reply.header('content-type', type).header('cache-control', 'no-cache').send(this.file(req.params.name));
  }

  @Public()
  @Post('login')
  @HttpCode(204)
  async login(@Body(new ZodPipe(Login)) b: z.infer<typeof Login>, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const caller = await this.keys.verify(b.apiKey);
    if (!caller) throw new UnauthorizedException('API key is not valid or was revoked');
    const secure = req.protocol === 'https' ? '; Secure' : '';
    reply.header('set-cookie', `${SESSION_COOKIE}=${encodeURIComponent(b.apiKey)}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_SECONDS}${secure}`);
    return reply.code(204).send();
  }

  @Public()
  @Post('logout')
  @HttpCode(204)
  logout(@Res() reply: FastifyReply) {
    reply.header('set-cookie', `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`);
    return reply.code(204).send();
  }
}
