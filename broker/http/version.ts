/**
 * `GET /version`, laid out exactly as Orion prints it (clients and Orion's own tests read it raw).
 */
import { ORION_VERSION } from '../subscriptions/service.ts';
import type { BrokerReply } from './request.ts';

function uptime(ms: number): string {
  let s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${d} d, ${h} h, ${m} m, ${s} s`;
}

export function versionReply(startedAt: number): BrokerReply {
  const fields: Array<[string, string]> = [
    ['version', ORION_VERSION],
    ['uptime', uptime(Date.now() - startedAt)],
    ['git_hash', 'tsunagu'],
    ['compile_time', 'n/a'],
    ['compiled_by', 'tsunagu'],
    ['compiled_in', 'node'],
    ['release_date', 'n/a'],
    ['machine', process.arch === 'x64' ? 'x86_64' : process.arch],
    ['doc', `https://fiware-orion.rtfd.io/en/${ORION_VERSION}/`],
  ];
  const lines = fields.map(([k, v]) => `  ${JSON.stringify(k)} : ${JSON.stringify(v)}`).join(',\n');
  const text = `{\n"orion" : {\n${lines}\n}\n}\n`;
  return { status: 200, rawJson: text };
}
