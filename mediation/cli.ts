/**
 * Staff commands: `npm run tsunagu -- mediation <command>`. Onboarding a service needs no code change:
 *
 *   mediation services add --service CLIENT_ID --name 健康アプリ --items name,birthdate \
 *       --purpose 'age-check=年齢確認' [--purpose 'investigation=法令に基づく照会:90'] [--flow 'TO:item,item:purpose,purpose']
 *   mediation services list | show ID | update ID [same options] | disable ID | enable ID
 *   mediation log verify | log checkpoint | log retention
 *   mediation keys list | keys rotate MUNICIPALITY | keys rewrap
 *   mediation import-idp COMMON_ID
 */
import { parseArgs } from 'node:util';
import type { CommandIo, ModuleCommand } from '../core/index.ts';
import type { MediationServices } from './mediation_services.ts';
import type { FlowRule, Purpose, ServiceInput } from './service_registry.ts';

const ACTOR = 'staff:cli';

async function services(io: CommandIo): Promise<MediationServices> {
  return (await io.platform()).services['mediation'] as MediationServices;
}

const json = (io: CommandIo, value: unknown) => io.out(`${JSON.stringify(value, null, 2)}\n`);

/** `code=label[:suppressDays]` */
function parsePurpose(text: string): Purpose {
  const [code, rest = ''] = text.split(/=(.*)/s) as [string, string?];
  const m = /^(.*?)(?::(\d+))?$/s.exec(rest)!;
  return {
    code: code.trim(),
    label: (m[1] ?? '').trim() || code.trim(),
    ...(m[2] ? { suppressDays: Number(m[2]) } : {}),
  };
}

/** `to:item,item:purpose,purpose` */
function parseFlow(text: string): FlowRule {
  const [to = '', items = '', purposes = ''] = text.split(':');
  const list = (s: string) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
  return { to, items: list(items), purposes: list(purposes) };
}

function serviceOptions(args: string[]) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      service: { type: 'string' },
      name: { type: 'string' },
      items: { type: 'string' },
      purpose: { type: 'string', multiple: true },
      flow: { type: 'string', multiple: true },
    },
  });
  const change: Partial<ServiceInput> = {};
  if (values.name) change.name = values.name;
  if (values.items)
    change.items = values.items
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  if (values.purpose) change.purposes = values.purpose.map(parsePurpose);
  if (values.flow) change.flows = values.flow.map(parseFlow);
  return { service: values.service ?? positionals[0], change };
}

const usage = (io: CommandIo, text: string) => {
  io.out(`usage: npm run tsunagu -- mediation ${text}\n`);
  return 2;
};

export const MEDIATION_COMMANDS: Record<string, ModuleCommand> = {
  'services add': {
    summary: 'register a partner service (items, purposes, flows)',
    async run(args, io) {
      const { service, change } = serviceOptions(args);
      if (!service || !change.name || !change.items || !change.purposes)
        return usage(
          io,
          "services add --service ID --name N --items a,b --purpose 'code=label[:days]' [--flow 'to:items:purposes']",
        );
      json(io, await (await services(io)).registry.add({ ...change, service } as ServiceInput, ACTOR));
      return 0;
    },
  },
  'services update': {
    summary: 'change a registered service',
    async run(args, io) {
      const { service, change } = serviceOptions(args);
      if (!service) return usage(io, 'services update ID [--name N] [--items a,b] [--purpose …] [--flow …]');
      json(io, await (await services(io)).registry.update(service, change, ACTOR));
      return 0;
    },
  },
  'services list': {
    summary: 'list registered services',
    async run(_args, io) {
      for (const s of await (await services(io)).registry.list())
        io.out(
          `${s.service}\t${s.state}\t${s.name}\titems=${s.items.join(',')}\tpurposes=${s.purposes.map((p) => p.code).join(',')}\tflows=${s.flows.map((f) => f.to).join(',')}\n`,
        );
      return 0;
    },
  },
  'services show': {
    summary: 'show one registered service',
    async run(args, io) {
      if (!args[0]) return usage(io, 'services show ID');
      const found = await (await services(io)).registry.get(args[0]);
      if (!found) {
        io.out(`${args[0]} is not registered\n`);
        return 1;
      }
      json(io, found);
      return 0;
    },
  },
  'services disable': {
    summary: 'stop serving a service',
    async run(args, io) {
      if (!args[0]) return usage(io, 'services disable ID');
      json(io, await (await services(io)).registry.setState(args[0], 'disabled', ACTOR));
      return 0;
    },
  },
  'services enable': {
    summary: 'serve a disabled service again',
    async run(args, io) {
      if (!args[0]) return usage(io, 'services enable ID');
      json(io, await (await services(io)).registry.setState(args[0], 'active', ACTOR));
      return 0;
    },
  },
  'log verify': {
    summary: 'verify the access log chain, checkpoints and archived segments',
    async run(_args, io) {
      const report = await (await services(io)).verifyLog();
      json(io, report);
      return report.ok ? 0 : 1;
    },
  },
  'log checkpoint': {
    summary: 'sign a checkpoint of the access log head now',
    async run(_args, io) {
      json(io, await (await services(io)).checkpointLog());
      return 0;
    },
  },
  'log retention': {
    summary: 'archive (sealed) and purge the access log segments past retention',
    async run(_args, io) {
      json(io, { purged: await (await services(io)).runRetention(ACTOR) });
      return 0;
    },
  },
  'keys list': {
    summary: 'data keys per municipality and the rows under each',
    async run(_args, io) {
      json(io, await (await services(io)).keyStatus());
      return 0;
    },
  },
  'keys rotate': {
    summary: 'new data key for a municipality, then re-encrypt its rows',
    async run(args, io) {
      if (!args[0]) return usage(io, 'keys rotate MUNICIPALITY');
      const s = await services(io);
      const rotated = await s.rotateDataKey(args[0], ACTOR);
      json(io, { ...rotated, reencrypted: await s.reencryptAll() });
      return 0;
    },
  },
  'keys rewrap': {
    summary: 're-wrap every data key under the current MASTER_KEY',
    async run(_args, io) {
      json(io, { rewrapped: await (await services(io)).rewrapKeys(ACTOR) });
      return 0;
    },
  },
  'import-idp': {
    summary: "copy residents' verified basic 4 info from idp (accounts enrolled before mediation)",
    async run(args, io) {
      if (args.length === 0) return usage(io, 'import-idp COMMON_ID…');
      const s = await services(io);
      for (const id of args)
        io.out(`${id}\t${(await s.importFromIdp(id)) ? 'imported' : 'no verified profile'}\n`);
      return 0;
    },
  },
};
