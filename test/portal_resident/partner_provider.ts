/**
 * A partner service's own sign-in, as a contract test double: a real OpenID provider
 * (`oidc-provider`, the certified implementation) with the platform registered as a confidential
 * client that receives pairwise subjects. Its development login page accepts any login name as the
 * partner's account id; `subjectFor(account)` is the pairwise subject the platform must record.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export interface PartnerProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The pairwise subject the partner issues to the platform for one of its accounts. */
  subjectFor(account: string): string;
  stop(): Promise<void>;
}

export async function startPartnerProvider(o: {
  host: string;
  port: number;
  redirectUri: string;
}): Promise<PartnerProvider> {
  const issuer = `http://${o.host}:${o.port}`;
  const clientId = 'tsunagu-platform';
  const clientSecret = 'partner-issued-secret-for-the-platform-0123456789';
  const salt = 'partner-pairwise-salt';
  const sector = new URL(o.redirectUri).host;
  const subjectFor = (account: string) =>
    createHash('sha256').update(`${sector}|${account}|${salt}`).digest('base64url');

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [o.redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        subject_type: 'pairwise',
      },
    ],
    subjectTypes: ['public', 'pairwise'],
    pairwiseIdentifier: async (_ctx, accountId, client) => {
      if (new URL(client.redirectUris![0]!).host !== sector) throw new Error('unexpected sector');
      return subjectFor(accountId);
    },
    pkce: { required: () => true },
    findAccount: async (_ctx, id) => ({ accountId: id, claims: async () => ({ sub: id }) }),
    features: { devInteractions: { enabled: true } },
    cookies: { keys: ['partner-cookie-key-0123456789abcdef'] },
  });
  const server: Server = createServer(provider.callback());
  await new Promise<void>((resolve) => server.listen(o.port, resolve));
  if ((server.address() as AddressInfo).port !== o.port) throw new Error('port moved');
  return {
    issuer,
    clientId,
    clientSecret,
    subjectFor,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
