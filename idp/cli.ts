/**
 * The identity provider's admin commands, run through the platform's CLI as
 * `npm run tsunagu -- idp <command>` (modules.ts lists them):
 *
 *   idp clients add --name NAME --grant client_credentials --scope points:write \
 *        [--grant authorization_code --redirect-uri URI …] [--ip 203.0.113.0/24 …] \
 *        [--auth client_secret_post] [--verified-claims]
 *       → prints {"clientId": "...", "clientSecret": "...", ...} as JSON (the secret is shown only here)
 *   idp clients list
 *   idp clients disable CLIENT_ID
 *   idp staff add --username NAME [--privileged]   (prints a generated password + TOTP secret)
 *   idp keys rotate
 *   idp residents import FILE [--apply] [--invite]   (CSV, UTF-8 or Shift_JIS; report unless --apply)
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AuthMethod, GrantType } from './clients/client_registry.ts';
import type { IdpServices } from './index.ts';

export interface IdpCommand {
  summary: string;
  run(idp: IdpServices, args: string[], out: (line: string) => void): Promise<number>;
}

function options(args: string[]): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) continue;
    const name = arg.slice(2);
    const next = args[i + 1];
    const flag = next === undefined || next.startsWith('--');
    found.set(name, [...(found.get(name) ?? []), flag ? 'true' : next]);
    if (!flag) i += 1;
  }
  return found;
}

export const IDP_COMMANDS: Record<string, IdpCommand> = {
  'clients add': {
    summary: 'register a partner client; prints its id and secret as JSON',
    async run(idp, args, out) {
      const o = options(args);
      const name = o.get('name')?.[0];
      const grants = (o.get('grant') ?? []) as GrantType[];
      if (!name || grants.length === 0) {
        out(
          'usage: clients add --name NAME --grant client_credentials|authorization_code|refresh_token [--scope S …] [--redirect-uri URI …] [--ip CIDR …] [--auth METHOD] [--verified-claims]',
        );
        return 2;
      }
      const auth = o.get('auth')?.[0] as AuthMethod | undefined;
      const { client, clientSecret } = await idp.clients.create(
        {
          name,
          grantTypes: grants,
          scopes: o.get('scope') ?? [],
          redirectUris: o.get('redirect-uri') ?? [],
          postLogoutRedirectUris: o.get('post-logout-redirect-uri') ?? [],
          ipAllowList: o.get('ip') ?? [],
          verifiedClaims: o.has('verified-claims'),
          ...(auth ? { tokenEndpointAuthMethod: auth } : {}),
        },
        'cli',
      );
      out(JSON.stringify({ ...client, clientSecret }));
      return 0;
    },
  },
  'clients list': {
    summary: 'list partner clients as JSON lines (no secrets)',
    async run(idp, _args, out) {
      for (const client of await idp.clients.list()) out(JSON.stringify(client));
      return 0;
    },
  },
  'clients disable': {
    summary: 'disable a partner client and revoke its tokens',
    async run(idp, args, out) {
      const id = args.find((a) => !a.startsWith('--'));
      if (!id) {
        out('usage: clients disable CLIENT_ID');
        return 2;
      }
      out(JSON.stringify(await idp.clients.disable(id, 'cli')));
      return 0;
    },
  },
  'staff add': {
    summary: 'create a staff account; prints a generated password and the TOTP secret as JSON',
    async run(idp, args, out) {
      const o = options(args);
      const username = o.get('username')?.[0];
      if (!username) {
        out('usage: staff add --username NAME [--privileged]');
        return 2;
      }
      const password = randomBytes(18).toString('base64url');
      const created = await idp.staff.create({ username, password, privileged: o.has('privileged') }, 'cli');
      out(JSON.stringify({ username, password, ...created }));
      return 0;
    },
  },
  'residents import': {
    summary: 'register residents from a CSV (report only unless --apply; --invite mails invitations)',
    async run(idp, args, out) {
      const o = options(args);
      const file = args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
      if (!file) {
        out('usage: residents import FILE [--apply] [--invite]');
        return 2;
      }
      const bytes = new Uint8Array(readFileSync(file));
      const report = o.has('apply')
        ? await idp.bulk.apply(bytes, { actor: 'cli', invite: o.has('invite') })
        : await idp.bulk.preview(bytes);
      out(JSON.stringify(report, null, 2));
      return report.fileProblem || report.issues.length > 0 ? 1 : 0;
    },
  },
  'keys rotate': {
    summary: 'add fresh OpenID signing keys; the previous ones stay published',
    async run(idp, _args, out) {
      out(JSON.stringify({ kids: await idp.rotateSigningKeys('cli') }));
      return 0;
    },
  },
};

/** Finds the command named by the leading words of `argv`. */
export function findIdpCommand(argv: string[]): { command: IdpCommand; args: string[] } | undefined {
  for (const words of [2, 1]) {
    const command = IDP_COMMANDS[argv.slice(0, words).join(' ')];
    if (command) return { command, args: argv.slice(words) };
  }
  return undefined;
}
