import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Keeps subscriber URLs from being used to probe the hub's own network (SSRF). A URL is refused
 * when any address its host resolves to is private, loopback, link-local, multicast or reserved,
 * unless it falls in HUB_DELIVERY_ALLOWED_NETWORKS. Checked when a subscription is saved and again
 * before every attempt; the request then connects to the address that was checked (see
 * WebhookSender), so a DNS answer that changes in between (rebinding) cannot slip through.
 */
const REFUSED_V4 = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const;
const REFUSED_V6 = [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96], ['2001:db8::', 32]] as const;

export interface EndpointPolicy {
  allowHttp: boolean;
  allowedNetworks: string[];
}

export type EndpointCheck = { ok: true; url: URL; address: string; family: 4 | 6 } | { ok: false; reason: string };

export class EndpointGuard {
  private readonly refused = new BlockList();
  private readonly allowed = new BlockList();

  constructor(private readonly policy: EndpointPolicy) {
    for (const [a, p] of REFUSED_V4) this.refused.addSubnet(a, p, 'ipv4');
    for (const [a, p] of REFUSED_V6) this.refused.addSubnet(a, p, 'ipv6');
    for (const cidr of policy.allowedNetworks) {
      const [a, p] = cidr.split('/');
      this.allowed.addSubnet(a, Number(p), isIP(a) === 6 ? 'ipv6' : 'ipv4');
    }
  }

  /** Resolves the URL's host and checks every address; answers the first one to connect to. */
  async check(raw: string): Promise<EndpointCheck> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return { ok: false, reason: 'url is not a valid absolute URL' };
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, reason: 'url must use https' };
    if (url.protocol === 'http:' && !this.policy.allowHttp) {
      return { ok: false, reason: 'url must use https (plain http only with HUB_DELIVERY_ALLOW_HTTP=true, for loopback or test set-ups)' };
    }
    if (url.username || url.password) return { ok: false, reason: 'url must not carry credentials' };
    const host = url.hostname.replace(/^\[|\]$/g, '');
    let addresses: { address: string; family: number }[];
    try {
      addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await lookup(host, { all: true, verbatim: true });
    } catch (e) {
      return { ok: false, reason: `host ${host} does not resolve (${(e as NodeJS.ErrnoException).code ?? 'error'})` };
    }
    if (!addresses.length) return { ok: false, reason: `host ${host} does not resolve` };
    for (const a of addresses) {
      const why = this.refusal(a.address, a.family === 6 ? 6 : 4);
      if (why) return { ok: false, reason: `host ${host} resolves to ${a.address}, ${why}` };
    }
    return { ok: true, url, address: addresses[0].address, family: addresses[0].family === 6 ? 6 : 4 };
  }

  refusal(address: string, family: 4 | 6): string | null {
    // IPv4-mapped IPv6 (::ffff:10.0.0.1) is judged as the IPv4 address it carries.
    const mapped = family === 6 ? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1] : undefined;
    const [a, t] = mapped ? [mapped, 'ipv4' as const] : [address, family === 6 ? ('ipv6' as const) : ('ipv4' as const)];
    if (this.allowed.check(a, t)) return null;
    if (this.refused.check(a, t)) {
      return 'a private, loopback, link-local or reserved address (allow it with HUB_DELIVERY_ALLOWED_NETWORKS)';
    }
    return null;
  }
}
