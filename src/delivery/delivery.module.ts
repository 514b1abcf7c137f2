import { Global, Module } from '@nestjs/common';
import { EventFeed } from './event-feed.service.js';
import { EventsController } from './events.controller.js';

/** Publishing: the transactional outbox every change writes to, and the pull feed over it. */
@Global()
@Module({ providers: [EventFeed], controllers: [EventsController], exports: [EventFeed] })
export class DeliveryModule {}
