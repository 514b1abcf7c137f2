import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

export interface Received {
  at: number;
  headers: IncomingHttpHeaders;
  body: string;
  json: { type: string; timestamp: string; eventId: string; data: any };
  answered: number | 'hang';
}

export type Behaviour = (r: Received, n: number) => { status: number; headers?: Record<string, string>; body?: string } | 'hang';

/** A real HTTP subscriber on 127.0.0.1 whose answers a test scripts (fail, hang, 429, 410 ...). */
export class TestSubscriber {
  readonly received: Received[] = [];
  behaviour: Behaviour = () => ({ status: 200, body: 'ok' });
  /** How long each answer takes (a slow endpoint). */
  delayMs = 0;
  private server!: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const r: Received = { at: Date.now(), headers: req.headers, body, json: JSON.parse(body), answered: 0 };
        const a = this.behaviour(r, this.received.length);
        this.received.push(r);
        r.answered = a === 'hang' ? 'hang' : a.status;
        if (a === 'hang') return; // never answers: the hub's timeout must end it
        const answer = () => {
          res.writeHead(a.status, a.headers ?? {});
          res.end(a.body ?? '');
        };
        if (this.delayMs > 0) setTimeout(answer, this.delayMs);
        else answer();
      });
    });
    this.server.keepAliveTimeout = 1000;
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}/hook`;
    return this;
  }

  async stop() {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(() => r(undefined)));
  }
}
