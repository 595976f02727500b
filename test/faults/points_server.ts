/**
 * The platform as a child process for the kill -9 test: `createPlatform` with every module, and a
 * static token verifier standing in for partner tokens (the ledger, not authentication, is on trial).
 * Prints `ready <url>` once listening.
 */
import { createPlatform } from '../../platform.ts';

const platform = await createPlatform({
  tokenVerifier: {
    async verify(token) {
      return token === 'pos-terminal' ? { subject: 'pos', clientId: 'pos', scopes: ['points:pay'] } : null;
    },
  },
});
const { url } = await platform.listen();
process.stdout.write(`ready ${url}\n`);
