/**
 * Helpers for the idp tests: a platform on a known port (so PUBLIC_URL, and with it the OpenID issuer,
 * is the address the tests reach), a partner client, and an openid-client configuration for it.
 */
import * as oidc from 'openid-client';
import type { IdpServices, PartnerClientInput } from '../../idp/index.ts';
import { startTestPlatform, type TestPlatform, type TestPlatformOptions } from '../support/platform.ts';
import { freePort } from '../support/ports.ts';

export { freePort };

export interface IdpTestPlatform extends TestPlatform {
  idp: IdpServices;
  issuer: string;
}

export async function startIdpPlatform(options: TestPlatformOptions = {}): Promise<IdpTestPlatform> {
  const port = await freePort();
  const t = await startTestPlatform({
    ...options,
    env: { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, ...options.env },
  });
  const idp = t.platform.services['idp'] as IdpServices;
  return Object.assign(t, { idp, issuer: idp.issuer });
}

export async function addClient(
  t: IdpTestPlatform,
  input: Partial<PartnerClientInput> & Pick<PartnerClientInput, 'grantTypes' | 'scopes'>,
): Promise<{ clientId: string; clientSecret: string }> {
  const { client, clientSecret } = await t.idp.clients.create(
    { name: 'テスト連携サービス', ...input },
    'test',
  );
  return { clientId: client.clientId, clientSecret: clientSecret ?? '' };
}

/** An independent relying party: openid-client discovering our issuer over plain http. */
export async function relyingParty(
  t: IdpTestPlatform,
  client: { clientId: string; clientSecret: string },
  metadata: Partial<oidc.ClientMetadata> = {},
): Promise<oidc.Configuration> {
  return oidc.discovery(
    new URL(t.issuer),
    client.clientId,
    { ...metadata },
    oidc.ClientSecretBasic(client.clientSecret),
    {
      execute: [oidc.allowInsecureRequests],
    },
  );
}
