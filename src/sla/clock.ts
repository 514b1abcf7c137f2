/**
 * Where SLA code reads the time. Production uses the system clock; with HUB_TEST_CLOCK=true (refused
 * when NODE_ENV=production) a ManualClock is injected so tests move time instead of sleeping.
 */
export abstract class Clock {
  abstract now(): Date;
}

export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
}

export class ManualClock extends Clock {
  private t = Date.now();
  now(): Date {
    return new Date(this.t);
  }
  set(at: Date | string): void {
    this.t = new Date(at).getTime();
  }
  advance(ms: number): void {
    this.t += ms;
  }
}
