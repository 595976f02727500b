/**
 * IP allow-lists over IPv4 and IPv6 CIDRs. The client address is Express's `req.ip`, which honours
 * `X-Forwarded-For` only from the proxies in TRUSTED_PROXIES (the app's `trust proxy` setting).
 * IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) are matched as IPv4.
 */
import { BlockList, isIP } from 'node:net';
import type { RequestHandler } from 'express';
import { ProblemError } from '../http/problem.ts';

export function parseCidr(cidr: string): { address: string; prefix: number; type: 'ipv4' | 'ipv6' } {
  const [address = '', prefixText] = cidr.trim().split('/');
  const family = isIP(address);
  if (family === 0) throw new Error(`not an IP address or CIDR: ${JSON.stringify(cidr)}`);
  const max = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (
    !Number.isInteger(prefix) ||
    prefix < 0 ||
    prefix > max ||
    (prefixText !== undefined && !/^\d+$/.test(prefixText))
  ) {
    throw new Error(`bad prefix length in ${JSON.stringify(cidr)}`);
  }
  return { address, prefix, type: family === 4 ? 'ipv4' : 'ipv6' };
}

export interface AddressMatcher {
  allows(ip: string): boolean;
}

export function createAddressMatcher(cidrs: readonly string[]): AddressMatcher {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const { address, prefix, type } = parseCidr(cidr);
    list.addSubnet(address, prefix, type);
  }
  return {
    allows(ip) {
      const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
      const address = mapped ? mapped[1]! : ip;
      const family = isIP(address);
      if (family === 0) return false;
      return list.check(address, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}

/** Answers 403 `ip-not-allowed` unless the client address is inside one of `cidrs`. */
export function ipAllowList(cidrs: readonly string[]): RequestHandler {
  const matcher = createAddressMatcher(cidrs);
  return (req, _res, next) => {
    if (req.ip && matcher.allows(req.ip)) return next();
    next(new ProblemError('ip-not-allowed'));
  };
}
