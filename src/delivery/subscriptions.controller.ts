import { BadRequestException, Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, ParseUUIDPipe, Patch, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import type { AuthedRequest } from '../auth/api-key.guard.js';
import { Allow } from '../auth/roles.decorator.js';
import { ZodPipe } from '../http/zod.pipe.js';
import { DeliveryLedger } from './delivery-ledger.service.js';
import { DeliveryQueue } from './delivery.worker.js';
import { SecretRotation, SubscriptionCreate, SubscriptionInvalid, Subscriptions, SubscriptionUpdate, describe } from './subscriptions.service.js';

const BulkReplay = z.strictObject({ since: z.coerce.date() });

@ApiTags('subscriptions')
@ApiBearerAuth()
@Controller('v1/subscriptions')
export class SubscriptionsController {
  constructor(
    private readonly subs: Subscriptions,
    private readonly ledger: DeliveryLedger,
    private readonly queue: DeliveryQueue,
  ) {}

  /** Creates a subscription. The signing secret (generated unless given) is returned only here. */
  @Post()
  @Allow('integrator')
  async create(@Body(new ZodPipe(SubscriptionCreate)) body: SubscriptionCreate, @Req() req: AuthedRequest) {
    const { subscription, secret } = await this.invalidAs400(() => this.subs.create(body, req.caller!.actor));
    return { ...describe(subscription), secret };
  }

  @Get()
  @Allow('integrator')
  async list() {
    return { items: (await this.subs.list()).map(describe) };
  }

  @Get(':id')
  @Allow('integrator')
  async get(@Param('id', new ParseUUIDPipe()) id: string) {
    return describe(await this.found(this.subs.get(id), id));
  }

  /** Changes a subscription; `active: true` re-enables one that was disabled (410 or failing too long). */
  @Patch(':id')
  @Allow('integrator')
  async update(@Param('id', new ParseUUIDPipe()) id: string, @Body(new ZodPipe(SubscriptionUpdate)) body: SubscriptionUpdate, @Req() req: AuthedRequest) {
    return describe(await this.found(this.invalidAs400(() => this.subs.update(id, body, req.caller!.actor)), id));
  }

  @Delete(':id')
  @Allow('integrator')
  @HttpCode(204)
  async remove(@Param('id', new ParseUUIDPipe()) id: string, @Req() req: AuthedRequest) {
    if (!(await this.subs.remove(id, req.caller!.actor))) throw new NotFoundException(`no subscription ${id}`);
  }

  /** New signing secret; the previous ones keep signing (both signatures sent) for `overlapHours`. */
  @Post(':id/rotate-secret')
  @Allow('integrator')
  async rotate(@Param('id', new ParseUUIDPipe()) id: string, @Body(new ZodPipe(SecretRotation)) body: SecretRotation, @Req() req: AuthedRequest) {
    return this.found(this.subs.rotateSecret(id, body, req.caller!.actor), id);
  }

  /** Replays this subscription's dead deliveries created since a time; each keeps its webhook-id. */
  @Post(':id/replay')
  @Allow('integrator')
  async replay(@Param('id', new ParseUUIDPipe()) id: string, @Body(new ZodPipe(BulkReplay)) body: z.infer<typeof BulkReplay>, @Req() req: AuthedRequest) {
    await this.found(this.subs.get(id), id);
    const rows = await this.ledger.replay({ subscriptionId: id, since: body.since }, req.caller!.actor);
    await this.queue.add(rows).catch(() => undefined); // stored as pending: the sweeper queues them if Redis is down
    return { replayed: rows.length, deliveryIds: rows.map((r) => r.id) };
  }

  private async found<T>(p: Promise<T | null>, id: string): Promise<T> {
    const v = await p;
    if (!v) throw new NotFoundException(`no subscription ${id}`);
    return v;
  }

  private async invalidAs400<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      if (e instanceof SubscriptionInvalid) throw new BadRequestException(e.message);
      throw e;
    }
  }
}
